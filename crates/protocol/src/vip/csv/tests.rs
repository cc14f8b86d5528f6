//! Tests of `vip::csv`, kept apart so the module itself stays readable.

use super::cells::{COLOR_NAMES, VIP_TYPE_NAMES};
use super::*;
use crate::time::{parse_mallcoo, parse_pyun_iso};

fn sh(s: &str) -> DateTime<Utc> {
    parse_mallcoo(s).unwrap()
}

fn parse(text: &str) -> ParsedRecords {
    parse_records(text).unwrap()
}

fn only_row(text: &str) -> RecordRow {
    let p = parse(text);
    assert_eq!(p.errors, vec![], "{text}");
    assert_eq!(p.rows.len(), 1);
    p.rows.into_iter().next().unwrap().1
}

fn errors(text: &str) -> Vec<RowError> {
    parse(text).errors
}

fn tricky_rows() -> Vec<RecordRow> {
    vec![
        RecordRow {
            plate: Plate::parse("粤BD07627").unwrap(),
            plate_color: PlateColor::Green,
            card_no: Some("A,\"1\"".into()),
            card_id: Some("物理卡 号".into()),
            charge_type: "MON_A, \"月\"".into(),
            vip_type: VipType::Monthly,
            valid_from: Some(sh("2022-10-01 00:00:00")),
            valid_to: Some(sh("2022-10-31 23:59:59")),
            pay_partner: Some("pay_partner_1".into()),
            quantity: 1,
            pay_type: PayType::Online,
            pay_value_fen: 30050,
            pay_time: Some(sh("2022-10-01 10:00:00")),
            operator: Some("张三\n李四".into()),
        },
        RecordRow {
            plate: Plate::parse("沪A12345D").unwrap(),
            plate_color: PlateColor::Unknown,
            card_no: None,
            card_id: None,
            charge_type: "免费车".into(),
            vip_type: VipType::Free,
            valid_from: Some(sh("2022-01-01 08:30:00")),
            valid_to: Some(sh("2099-12-31 23:59:59")),
            pay_partner: None,
            quantity: 0,
            pay_type: PayType::Cash,
            pay_value_fen: 0,
            pay_time: None,
            operator: None,
        },
        RecordRow {
            plate: Plate::parse("京A0006警").unwrap(),
            plate_color: PlateColor::White,
            card_no: None,
            card_id: None,
            charge_type: "Y".into(),
            vip_type: VipType::Yearly,
            valid_from: None,
            valid_to: None,
            pay_partner: None,
            quantity: 3,
            pay_type: PayType::Cash,
            pay_value_fen: 1,
            pay_time: None,
            operator: Some("'=1+1".into()),
        },
    ]
}

#[test]
fn decode_detects_utf8_with_or_without_bom_and_gbk() {
    let text = "车牌号,收费类型,VIP类型\n粤B12345,月租,月卡\n";
    let (s, e) = decode(text.as_bytes(), EncodingChoice::Auto).unwrap();
    assert_eq!((s.as_str(), e), (text, CsvEncoding::Utf8));
    let with_bom = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
    let (s, e) = decode(&with_bom, EncodingChoice::Auto).unwrap();
    assert_eq!((s.as_str(), e), (text, CsvEncoding::Utf8));
    assert_eq!(decode(&with_bom, EncodingChoice::Utf8).unwrap().0, text);

    let (gbk, _, unmappable) = GBK.encode(text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&gbk).is_err());
    let (s, e) = decode(&gbk, EncodingChoice::Auto).unwrap();
    assert_eq!((s.as_str(), e), (text, CsvEncoding::Gbk));
    assert_eq!(decode(&gbk, EncodingChoice::Gbk).unwrap().0, text);
    assert!(matches!(
        decode(&gbk, EncodingChoice::Utf8),
        Err(CsvError::NotUtf8 { offset: 0 })
    ));
    // Plain ASCII is both; forcing GBK reads it the same.
    assert_eq!(
        decode(b"plate\n", EncodingChoice::Gbk).unwrap(),
        ("plate\n".to_owned(), CsvEncoding::Gbk)
    );
    assert_eq!(
        decode(b"plate\n", EncodingChoice::Auto).unwrap().1,
        CsvEncoding::Utf8
    );
}

#[test]
fn decode_refuses_garbage_and_contradictions() {
    let garbage = [0x41, 0xFF, 0xFE, 0x00, 0x81];
    assert_eq!(
        decode(&garbage, EncodingChoice::Auto),
        Err(CsvError::UnknownEncoding)
    );
    assert_eq!(decode(&garbage, EncodingChoice::Gbk), Err(CsvError::NotGbk));
    assert_eq!(
        decode(&garbage, EncodingChoice::Utf8),
        Err(CsvError::NotUtf8 { offset: 1 })
    );
    // A BOM promises UTF-8: GBK after it is an error, not a guess.
    let (gbk, _, _) = GBK.encode("粤B12345");
    let bom_then_gbk = [b"\xEF\xBB\xBF".as_slice(), &gbk].concat();
    assert_eq!(
        decode(&bom_then_gbk, EncodingChoice::Auto),
        Err(CsvError::NotUtf8 { offset: 3 })
    );
    assert_eq!(
        decode(b"\xEF\xBB\xBFplate", EncodingChoice::Gbk),
        Err(CsvError::NotGbk)
    );
    assert!(CsvError::UnknownEncoding.to_string().contains("UTF-8"));
}

#[test]
fn encode_gbk_round_trips_and_names_what_gbk_lacks() {
    let text = write_records(&tricky_rows());
    let bytes = encode_gbk(&text).unwrap();
    assert_eq!(
        decode(&bytes, EncodingChoice::Auto).unwrap(),
        (text, CsvEncoding::Gbk)
    );
    let err = encode_gbk("车牌号\n粤B12345 😀").unwrap_err();
    assert!(err.contains("「😀」") && err.contains("第 2 行"), "{err}");
    assert!(err.contains("U+1F600"), "{err}");
}

#[test]
fn yuan_is_read_exactly_to_the_fen() {
    for (s, fen) in [
        ("300", 30000),
        ("300.5", 30050),
        ("300.50", 30050),
        ("0.01", 1),
        ("0", 0),
        (" 12.3 ", 1230),
        ("007.00", 700),
        ("92233720368547758.07", i64::MAX),
    ] {
        assert_eq!(parse_yuan(s), Ok(fen), "{s}");
    }
    for s in [
        "",
        "-1",
        "-0.5",
        "1.234",
        "abc",
        "1,000",
        "+5",
        ".5",
        "5.",
        "1e3",
        "¥3",
        "1.2.3",
        "92233720368547758.08",
        "1 000",
    ] {
        assert!(parse_yuan(s).is_err(), "{s} accepted");
    }
    assert_eq!(parse_yuan("-1").unwrap_err(), "金额不能为负数");
    assert!(parse_yuan("1.234").unwrap_err().contains("两位小数"));
    assert_eq!(format_yuan(30000), "300.00");
    assert_eq!(format_yuan(30050), "300.50");
    assert_eq!(format_yuan(1), "0.01");
    assert_eq!(format_yuan(0), "0.00");
    assert_eq!(format_yuan(-205), "-2.05");
    assert_eq!(format_yuan(i64::MIN), "-92233720368547758.08");
}

#[test]
fn header_names_match_in_either_language_and_any_order() {
    let r = only_row(
        "\u{feff} VIP_TYPE ,Charge_Type,金额（元）,  车牌号  \n月卡,MON_A,300.5,粤b12345\n",
    );
    assert_eq!(r.plate.as_str(), "粤B12345");
    assert_eq!(r.charge_type, "MON_A");
    assert_eq!(r.vip_type, VipType::Monthly);
    assert_eq!(r.pay_value_fen, 30050);
    // Defaults for absent columns and empty cells.
    assert_eq!(r.plate_color, PlateColor::Blue);
    assert_eq!((r.quantity, r.pay_type), (1, PayType::Cash));
    assert_eq!((r.valid_from, r.valid_to, r.pay_time), (None, None, None));
    assert_eq!((r.card_no, r.operator), (None, None));
    let r = only_row("plate,charge_type,vip_type,plate_color,quantity\n粤BD07627,M,1, ,\n");
    assert_eq!(r.plate_color, PlateColor::Green);
    assert_eq!(r.quantity, 1);
}

#[test]
fn unusable_headers_are_errors_and_unknown_columns_are_reported() {
    assert_eq!(parse_records(""), Err(CsvError::Empty));
    assert_eq!(parse_records("\u{feff}"), Err(CsvError::Empty));
    assert_eq!(
        parse_records("车牌号,数量\n粤B12345,1\n"),
        Err(CsvError::MissingColumns(vec![
            "收费类型".into(),
            "VIP类型".into()
        ]))
    );
    assert_eq!(
        parse_records("车牌号,plate,收费类型,VIP类型\n"),
        Err(CsvError::DuplicateColumn("车牌号".into()))
    );
    let msg = CsvError::MissingColumns(vec!["收费类型".into()]).to_string();
    assert!(msg.contains("收费类型"), "{msg}");
    let p = parse("车牌号,备注,收费类型,VIP类型,colour,\n粤B12345,随便,M,月卡,x,\n");
    assert_eq!(p.rows.len(), 1);
    assert_eq!(p.errors.len(), 1);
    assert_eq!(p.errors[0].line, 1);
    assert_eq!(p.errors[0].column, None);
    assert!(
        p.errors[0].message.contains("「备注」") && p.errors[0].message.contains("「colour」"),
        "{}",
        p.errors[0].message
    );
}

#[test]
fn every_bad_cell_is_reported_with_column_and_value() {
    let text = "车牌号,车牌颜色,收费类型,VIP类型,开始时间,结束时间,数量,支付方式,金额(元),支付时间\n\
                粤Z1,紫,M,钻石卡,2022-13-01,2022-10-31,-1,刷卡,-5,昨天\n";
    let p = parse(text);
    assert!(p.rows.is_empty());
    assert_eq!(p.data_lines, 1);
    let want = [
        ("车牌号", "「粤Z1」"),
        ("车牌颜色", "「紫」"),
        ("VIP类型", "「钻石卡」"),
        ("开始时间", "「2022-13-01」"),
        ("数量", "「-1」"),
        ("支付方式", "「刷卡」"),
        ("金额(元)", "「-5」"),
        ("支付时间", "「昨天」"),
    ];
    assert_eq!(p.errors.len(), want.len(), "{:#?}", p.errors);
    for (e, (col, value)) in p.errors.iter().zip(want) {
        assert_eq!(e.line, 2);
        assert_eq!(e.column.as_deref(), Some(col));
        assert!(
            e.message.starts_with(col) && e.message.contains(value),
            "{}",
            e.message
        );
    }
    assert!(p.errors[0].message.starts_with("车牌号「粤Z1」无效："));
    let empty = errors("车牌号,收费类型,VIP类型\n ,,月卡\n");
    assert_eq!(empty.len(), 2);
    assert_eq!(empty[0].message, "车牌号为空");
    assert_eq!(empty[1].message, "收费类型为空");
}

#[test]
fn line_numbers_count_newlines_inside_quoted_fields() {
    let text = "车牌号,收费类型,VIP类型,操作员\n\
                粤B12345,M,月卡,\"张三\n第二行\"\n\
                \n\
                粤B1234,M,月卡,李四\n\
                粤B12346,M,月卡,\"王\"\"五\"\"\"\n\
                粤B12345,M,年卡,赵六\n";
    let p = parse(text);
    assert_eq!(p.data_lines, 4);
    let lines: Vec<u64> = p.rows.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, vec![2, 6]);
    assert_eq!(p.rows[0].1.operator.as_deref(), Some("张三\n第二行"));
    assert_eq!(p.rows[1].1.operator.as_deref(), Some("王\"五\""));
    assert_eq!(p.errors.len(), 2);
    assert_eq!(p.errors[0].line, 5);
    assert_eq!(p.errors[1].line, 7);
    assert_eq!(p.errors[1].message, "车牌号「粤B12345」与第 2 行重复");
    // Windows line ends count the same.
    let crlf = parse(&text.replace('\n', "\r\n"));
    let lines: Vec<u64> = crlf.rows.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, vec![2, 6]);
    assert_eq!(crlf.errors[0].line, 5);
    assert_eq!(crlf.rows[0].1.operator.as_deref(), Some("张三\r\n第二行"));
    // So do old Mac line ends (a lone CR), which the csv crate's own line count misses
    // (found by the csv_rows fuzz target: every row was reported on line 1).
    let cr = parse(&text.replace('\n', "\r"));
    let lines: Vec<u64> = cr.rows.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, vec![2, 6]);
    assert_eq!((cr.errors[0].line, cr.errors[1].line), (5, 7));
}

#[test]
fn a_plate_repeated_in_another_spelling_is_still_a_repeat() {
    let p = parse("车牌号,收费类型,VIP类型\n粤B12345,M,月卡\n粤b 12345,M,月卡\n,,\n");
    assert_eq!(p.rows.len(), 1);
    assert_eq!(p.data_lines, 2);
    assert_eq!(p.errors[0].line, 3);
}

#[test]
fn dates_are_whole_shanghai_days_or_exact_times() {
    let head = "车牌号,收费类型,VIP类型,开始时间,结束时间,支付时间\n";
    let r = only_row(&format!(
        "{head}粤B12345,M,月卡,2022-10-01,2022-10-31,2022-10-01\n"
    ));
    assert_eq!(
        r.valid_from,
        Some(parse_pyun_iso("2022-09-30T16:00:00Z").unwrap())
    );
    assert_eq!(
        r.valid_to,
        Some(parse_pyun_iso("2022-10-31T15:59:59Z").unwrap())
    );
    assert_eq!(r.pay_time, Some(sh("2022-10-01 00:00:00")));
    let r = only_row(&format!(
        "{head}粤B12345,M,储值卡,2022-10-01 08:00:00,2022-10-01 08:00:00,2022-10-01 07:59:30\n"
    ));
    assert_eq!(r.valid_from, Some(sh("2022-10-01 08:00:00")));
    assert_eq!(r.valid_to, r.valid_from);
    assert_eq!(r.pay_time, Some(sh("2022-10-01 07:59:30")));
    // What Excel writes back after "helpfully" reformatting the dates.
    let r = only_row(&format!(
        "{head}粤B12345,M,月卡,2022/10/1,2022/10/31 23:59,\n"
    ));
    assert_eq!(r.valid_from, Some(sh("2022-10-01 00:00:00")));
    assert_eq!(r.valid_to, Some(sh("2022-10-31 23:59:00")));
    for bad in [
        "2022-10-1x",
        "22-10-01",
        "2022-10-01T00:00:00",
        "2022-02-30",
        "2022-10-01 24:00:00",
        "2022-10-01 10",
        "2022-10/01",
        "2022-10-01 10:00:00:00",
    ] {
        let e = errors(&format!("{head}粤B12345,M,月卡,{bad},2022-12-31,\n"));
        assert_eq!(e.len(), 1, "{bad}: {e:?}");
        assert_eq!(e[0].column.as_deref(), Some("开始时间"), "{bad}");
        assert!(e[0].message.contains(bad), "{}", e[0].message);
    }
}

#[test]
fn periods_must_be_ordered_and_complete_where_the_type_needs_them() {
    let head = "车牌号,收费类型,VIP类型,开始时间,结束时间\n";
    let e = errors(&format!("{head}粤B12345,M,月卡,2022-10-02,2022-10-01\n"));
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].column.as_deref(), Some("结束时间"));
    assert_eq!(
        e[0].message,
        "结束时间「2022-10-01」早于开始时间「2022-10-02」"
    );
    // The same day is fine: 00:00:00 to 23:59:59.
    assert!(errors(&format!("{head}粤B12345,M,月卡,2022-10-01,2022-10-01\n")).is_empty());
    let e = errors(&format!("{head}粤B12345,M,月卡,2022-10-01,\n"));
    assert_eq!(e[0].column.as_deref(), Some("结束时间"));
    let e = errors(&format!("{head}粤B12345,M,储天卡,,2022-10-01\n"));
    assert_eq!(e[0].column.as_deref(), Some("开始时间"));
    for (t, ok) in [
        ("免费", false),
        ("储值卡", false),
        ("3", false),
        ("月卡", true),
        ("4", true),
        ("年卡", true),
        ("季卡", true),
        ("半年卡", true),
    ] {
        let e = errors(&format!("{head}粤B12345,M,{t},,\n"));
        assert_eq!(e.is_empty(), ok, "{t}: {e:?}");
        if !ok {
            assert!(e[0].message.contains("须填写开始时间和结束时间"), "{t}");
        }
    }
}

#[test]
fn codes_and_names_are_both_accepted() {
    let head = "车牌号,车牌颜色,收费类型,VIP类型,支付方式,数量,开始时间,结束时间\n";
    let r = only_row(&format!("{head}粤B12345,2,M,6,2,0,,\n"));
    assert_eq!(
        (r.plate_color, r.vip_type, r.pay_type, r.quantity),
        (PlateColor::Yellow, VipType::Quarterly, PayType::Online, 0)
    );
    let r = only_row(&format!(
        "{head}粤B12345,黑色,M,0,线上,12,2022-01-01,2022-12-31\n"
    ));
    assert_eq!(
        (r.plate_color, r.vip_type),
        (PlateColor::Black, VipType::Free)
    );
    let r = only_row(&format!("{head}粤B12345,-1,M,半年卡,现金,1,,\n"));
    assert_eq!(
        (r.plate_color, r.vip_type, r.pay_type),
        (PlateColor::Unknown, VipType::HalfYear, PayType::Cash)
    );
    assert_eq!(errors(&format!("{head}粤B12345,0,M,8,3,1.5,,\n")).len(), 4);
}

#[test]
fn overlong_text_and_extra_cells_are_errors() {
    let long = "X".repeat(65);
    let e = errors(&format!("车牌号,收费类型,VIP类型\n粤B12345,{long},月卡\n"));
    assert_eq!(e.len(), 1);
    assert!(e[0].message.contains("最多 64 个字符"), "{}", e[0].message);
    let p = parse("车牌号,收费类型,VIP类型\n粤B12345,M,月卡,多余\n粤B12346,M,月卡,,\n粤B12347,M\n");
    assert_eq!(p.errors.len(), 2, "{:?}", p.errors);
    assert_eq!(p.errors[0].line, 2);
    assert!(p.errors[0].message.contains("多于表头"));
    // A short row lacks its VIP type.
    assert_eq!(p.errors[1].line, 4);
    assert_eq!(p.rows.len(), 1);
}

#[test]
fn records_round_trip_through_write_and_parse() {
    let rows = tricky_rows();
    let text = write_records(&rows);
    assert!(text.starts_with(
        "车牌号,车牌颜色,卡号,物理卡号,收费类型,VIP类型,开始时间,结束时间,支付单号,数量,支付方式,金额(元),支付时间,操作员\r\n"
    ));
    assert!(text.contains("2022-10-31 23:59:59"), "{text}");
    let p = parse(&text);
    assert_eq!(p.errors, vec![]);
    assert_eq!(p.data_lines, 3);
    let back: Vec<RecordRow> = p.rows.iter().map(|(_, r)| r.clone()).collect();
    assert_eq!(back, rows);
    // The first row's operator spans two lines, so the second row starts on line 4.
    assert_eq!(p.rows[1].0, 4);
    assert_eq!(write_records(&[]).lines().count(), 1);
}

#[test]
fn recharges_export_shares_the_records_columns() {
    let line = RechargeLine {
        plate: Plate::parse("粤BD07627").unwrap(),
        plate_color: PlateColor::Green,
        vip_type: VipType::StoredValue,
        charge_type: "S,1".into(),
        pay_partner: "pp-1".into(),
        quantity: 1,
        pay_type: PayType::Online,
        value: Some("500".into()),
        pay_time: sh("2022-10-01 10:00:00"),
        renewal_start: Some(sh("2022-10-01 00:00:00")),
        renewal_end: Some(sh("2023-09-30 23:59:59")),
        pay_value_fen: 50000,
        operator: None,
        sync_state: "delivered".into(),
    };
    let text = write_recharges(std::slice::from_ref(&line));
    assert_eq!(
        text,
        "车牌号,车牌颜色,VIP类型,收费类型,支付单号,数量,支付方式,面值,支付时间,开始时间,结束时间,金额(元),操作员,同步状态\r\n\
         粤BD07627,绿,储值卡,\"S,1\",pp-1,1,线上,500,2022-10-01 10:00:00,2022-10-01 00:00:00,2023-09-30 23:59:59,500.00,,delivered\r\n"
    );
    let p = parse(&text);
    assert_eq!(
        p.errors.len(),
        1,
        "only the export-only columns are unknown"
    );
    assert!(p.errors[0].message.contains("「面值」"));
    let r = &p.rows[0].1;
    assert_eq!(r.plate, line.plate);
    assert_eq!(r.valid_from, line.renewal_start);
    assert_eq!(r.valid_to, line.renewal_end);
    assert_eq!(r.pay_time, Some(line.pay_time));
    assert_eq!(r.pay_partner.as_deref(), Some("pp-1"));
    assert_eq!(r.pay_value_fen, 50000);
    assert_eq!(r.charge_type, "S,1");
}

// proptest needs OS randomness, absent on wasm32-unknown-unknown: properties run on the host.
#[cfg(not(target_arch = "wasm32"))]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn plate() -> impl Strategy<Value = Plate> {
        (
            "[粤沪京苏浙][A-HJ-NP-Z]",
            "[0-9A-HJ-NP-Z]{5}|D[0-9]{5}|[0-9]{5}F",
        )
            .prop_map(|(a, b)| Plate::parse(&format!("{a}{b}")).unwrap())
    }

    /// Trimmed, non-empty text with CSV's special characters and Chinese.
    fn text() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9张李,\"\n ;'=-]{0,20}[a-zA-Z0-9张李,\";'=-]"
            .prop_map(|s| s.trim().to_owned())
            .prop_filter("non-empty", |s| !s.is_empty())
    }

    fn when() -> impl Strategy<Value = DateTime<Utc>> {
        (946_684_800i64..4_102_444_800).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
    }

    prop_compose! {
        fn record()(
            plate in plate(),
            color in prop::sample::select(COLOR_NAMES.map(|c| c.0).to_vec()),
            card_no in prop::option::of(text()),
            card_id in prop::option::of(text()),
            charge_type in text(),
            vip_type in prop::sample::select(VIP_TYPE_NAMES.map(|c| c.0).to_vec()),
            period in prop::option::of((when(), 0i64..100_000_000)),
            pay_partner in prop::option::of(text()),
            quantity: u32,
            online: bool,
            fen in 0i64..i64::MAX,
            pay_time in prop::option::of(when()),
            operator in prop::option::of(text()),
        ) -> RecordRow {
            let needs = matches!(vip_type, VipType::Free | VipType::StoredValue | VipType::StoredCount);
            let period = period.or(needs.then(|| (DateTime::from_timestamp(0, 0).unwrap(), 5)));
            RecordRow {
                plate, plate_color: color, card_no, card_id, charge_type, vip_type,
                valid_from: period.map(|p| p.0),
                valid_to: period.map(|p| p.0 + chrono::TimeDelta::seconds(p.1)),
                pay_partner, quantity,
                pay_type: if online { PayType::Online } else { PayType::Cash },
                pay_value_fen: fen, pay_time, operator,
            }
        }
    }

    proptest! {
        #[test]
        fn written_records_read_back_identically(rows in prop::collection::vec(record(), 0..12)) {
            // Plates must be unique within one file.
            let mut seen = std::collections::HashSet::new();
            let rows: Vec<RecordRow> = rows.into_iter().filter(|r| seen.insert(r.plate.clone())).collect();
            let p = parse_records(&write_records(&rows)).unwrap();
            prop_assert_eq!(&p.errors, &vec![]);
            let back: Vec<RecordRow> = p.rows.into_iter().map(|(_, r)| r).collect();
            prop_assert_eq!(back, rows);
        }

        #[test]
        fn yuan_text_round_trips(fen in 0i64..i64::MAX) {
            prop_assert_eq!(parse_yuan(&format_yuan(fen)), Ok(fen));
        }
    }
}

#[test]
fn any_table_is_written_like_the_exports_crlf_rows_and_quoted_cells() {
    let text = write_table(
        ["时间", "优惠"],
        &[
            ["2026-12-01 10:00:00".to_owned(), "减1元".to_owned()],
            [String::new(), "a, \"b\"".to_owned()],
        ],
    );
    assert_eq!(
        text,
        "时间,优惠\r\n2026-12-01 10:00:00,减1元\r\n,\"a, \"\"b\"\"\"\r\n"
    );
}
