//! Mallcoo V1.4 over HTTP (PROTOCOLS.md §2.1): `POST /mallcoo/v1/{GetParkingPaymentInfo |
//! PayParkingFee | GetTraffic}`.
//!
//! The body is read as raw bytes, because the signature covers them exactly, and decoded only
//! after the signature checks out. A missing or wrong signature is 401 with a Mallcoo-shaped
//! body; every handled case is 200 with `resCode` 0 or 1 (a malformed request included); only a
//! server fault is a 500, and a database that is down a 503 (`ApiError`), which Mallcoo retries.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use protocol::mallcoo::{
    PayFeeRequest, PaymentInfoRequest, PaymentInfoResponse, ReceivedHeaders, Reply, TrafficRequest,
    TrafficResponse,
};
use serde::Serialize;

use super::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::mallcoo_api::auth::{self, MallcooPark};
use crate::mallcoo_api::{Refusal, decode, pay_fee, payment_info, traffic};

/// Turns a refusal into its HTTP answer (the one place Mallcoo statuses are decided).
fn refusal(method: &'static str, r: Refusal) -> Response {
    match r {
        Refusal::Unauthenticated(msg) => {
            (StatusCode::UNAUTHORIZED, axum::Json(Reply::error(msg))).into_response()
        }
        Refusal::Refused(msg) => {
            tracing::info!(method, res_msg = %msg, "Mallcoo call refused");
            axum::Json(Reply::error(msg)).into_response()
        }
        Refusal::Storage(e) => ApiError::Storage(e).into_response(),
        Refusal::Internal(e) => ApiError::Internal(e).into_response(),
    }
}

/// Authenticates the call and decodes its body as `T`.
async fn signed<T: serde::de::DeserializeOwned>(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(std::sync::Arc<MallcooPark>, T), Refusal> {
    let received =
        ReceivedHeaders::from_lookup(|name| headers.get(name).and_then(|v| v.to_str().ok()));
    let park = auth::authenticate(
        &state.db,
        &state.secrets,
        &state.mallcoo_keys,
        &received,
        body,
        Utc::now(),
    )
    .await?;
    let request = decode::body::<T>(body)?;
    Ok((park, request))
}

fn json<T: Serialize>(value: &T) -> Response {
    axum::Json(value).into_response()
}

/// `POST /mallcoo/v1/GetParkingPaymentInfo`: the fee query (§2.2).
#[utoipa::path(
    post,
    path = "/mallcoo/v1/GetParkingPaymentInfo",
    tag = "mallcoo v1.4",
    security(("mallcoo_app_id" = [], "mallcoo_public_key" = [], "mallcoo_timestamp" = [], "mallcoo_sign" = [])),
    request_body(
        content = Object,
        description = "`parkId?` (Mallcoo's car park id; may be absent only while one car park has one), exactly one of `plateNo` and `barcode`, `freeMinutes` (int ≥ 0, absent = 0), `freeAmount` (fen ≥ 0, absent = 0). PROTOCOLS.md §2.2.",
        example = json!({"parkId": "P001", "plateNo": "沪A68688", "freeMinutes": 0, "freeAmount": 0})
    ),
    responses(
        (status = 200, description = "The quote: `resCode` 0 with `feeId`, `entryTime` (`yyyy-MM-dd HH:mm:ss` Asia/Shanghai), `parkingMinutes`, `totalAmount`, `unPayAmount`, `deductionAmount`, `paidAmount` (all fen) and `offlineDeduction?`; or `resCode` 1 and `resMsg` only (e.g. 未查询到停车记录, an unknown `parkId`, a malformed request)", body = Object,
            example = json!({"resCode": 0, "resMsg": "", "feeId": "…", "entryTime": "2026-11-24 10:00:00", "parkingMinutes": 95, "totalAmount": 1300, "unPayAmount": 1300, "deductionAmount": 0, "paidAmount": 0})),
        MallcooRefusals,
    )
)]
pub(crate) async fn get_parking_payment_info(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    const METHOD: &str = protocol::mallcoo::payment_info::METHOD;
    let result = async {
        let (park, req) = signed::<PaymentInfoRequest>(&state, &headers, &body).await?;
        payment_info::answer(&state.db, &park, &req, Utc::now()).await
    }
    .await;
    match result {
        Ok(quote) => json(&PaymentInfoResponse::ok(quote)),
        Err(r) => refusal(METHOD, r),
    }
}

/// `POST /mallcoo/v1/PayParkingFee`: the payment notice (§2.3); a retry gets the stored answer.
#[utoipa::path(
    post,
    path = "/mallcoo/v1/PayParkingFee",
    tag = "mallcoo v1.4",
    security(("mallcoo_app_id" = [], "mallcoo_public_key" = [], "mallcoo_timestamp" = [], "mallcoo_sign" = [])),
    request_body(
        content = Object,
        description = "`parkId?`, `feeId` (from GetParkingPaymentInfo), `orderNo` (the idempotency key), `thirdTradeNo?`, `plateNo?`/`barcode?`, `payTime` (`yyyy-MM-dd HH:mm:ss` Asia/Shanghai), `unPayAmount`, `amount`, `deductionAmount` (fen; `amount + deductionAmount` must equal the quote's `unPayAmount`), `deductionDetails[]` (`Type` 0 benefit, 1 subsidy, 2 coupon, 3 points; `Identify`; `Minutes`; `Amount`), `payChannel` (0 online, 1 offline), `payType` (0 zero-amount, 1 Alipay, 2 UnionPay, 3 WeChat), `memberInfo?` (`Mobile`, `CardNo`, `CardGrade`, `Bonus`). PROTOCOLS.md §2.3.",
        example = json!({"parkId": "P001", "feeId": "…", "orderNo": "M20261124001", "thirdTradeNo": "4200001", "plateNo": "沪A68688", "payTime": "2026-11-24 11:35:00", "unPayAmount": 1300, "amount": 1300, "deductionAmount": 0, "deductionDetails": [], "payChannel": 0, "payType": 3})
    ),
    responses(
        (status = 200, description = "`resCode` 0 when recorded, or `resCode` 1 and `resMsg` (a stale `feeId`, amounts that do not add up, an unknown `parkId`, a malformed request); the same `orderNo` again gets the very same answer", body = Object,
            example = json!({"resCode": 0, "resMsg": ""})),
        MallcooRefusals,
    )
)]
pub(crate) async fn pay_parking_fee(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    const METHOD: &str = protocol::mallcoo::pay_fee::METHOD;
    let result = async {
        let (park, req) = signed::<PayFeeRequest>(&state, &headers, &body).await?;
        pay_fee::pay(&state.db, &park, &req, Utc::now()).await
    }
    .await;
    match result {
        // The stored text itself, so every retry gets the very same bytes.
        Ok(paid) => (
            [(header::CONTENT_TYPE, "application/json")],
            paid.answer().to_owned(),
        )
            .into_response(),
        Err(r) => refusal(METHOD, r),
    }
}

/// `POST /mallcoo/v1/GetTraffic`: entries and exits in `[startTime, endTime)` (§2.4).
#[utoipa::path(
    post,
    path = "/mallcoo/v1/GetTraffic",
    tag = "mallcoo v1.4",
    security(("mallcoo_app_id" = [], "mallcoo_public_key" = [], "mallcoo_timestamp" = [], "mallcoo_sign" = [])),
    request_body(
        content = Object,
        description = "`parkId?`, `startTime` (included) and `endTime` (excluded), `yyyy-MM-dd HH:mm:ss` Asia/Shanghai. PROTOCOLS.md §2.4.",
        example = json!({"parkId": "P001", "startTime": "2026-11-24 00:00:00", "endTime": "2026-11-25 00:00:00"})
    ),
    responses(
        (status = 200, description = "`resCode` 0 with `inNum` and `outNum` (entries and exits in the window), or `resCode` 1 and `resMsg` only (an empty or reversed window, an unknown `parkId`, a malformed request)", body = Object,
            example = json!({"resCode": 0, "resMsg": "", "inNum": 120, "outNum": 97})),
        MallcooRefusals,
    )
)]
pub(crate) async fn get_traffic(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    const METHOD: &str = protocol::mallcoo::traffic::METHOD;
    let result = async {
        let (park, req) = signed::<TrafficRequest>(&state, &headers, &body).await?;
        traffic::answer(&state.db, park.park_id, &req).await
    }
    .await;
    match result {
        Ok(counts) => json(&TrafficResponse::ok(counts)),
        Err(r) => refusal(METHOD, r),
    }
}

/// The answers other than 200 that every V1.4 route shares, for the OpenAPI document: the
/// signature check, the body guard and an unreachable database decide them, not the route.
struct MallcooRefusals;

impl utoipa::IntoResponses for MallcooRefusals {
    fn responses() -> std::collections::BTreeMap<
        String,
        utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
    > {
        use utoipa::openapi::{
            ContentBuilder, ObjectBuilder, Ref, ResponseBuilder, ResponsesBuilder,
        };
        let reply = |description: &str, example: Option<serde_json::Value>| {
            ResponseBuilder::new()
                .description(format!(
                    "{description}; the body is `{{\"resCode\": 1, \"resMsg\": …}}`"
                ))
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(ObjectBuilder::new().build()))
                        .example(example)
                        .build(),
                )
                .build()
        };
        ResponsesBuilder::new()
            .response(
                "401",
                reply(
                    "A signed header is missing, `AppID`/`PublicKey` do not match the car park's \
                     inbound key pair, `TimeStamp` is malformed or more than 5 minutes off, `Sign` \
                     is wrong, or the car park has no inbound key pair",
                    Some(serde_json::json!({"resCode": 1, "resMsg": "签名验证失败：缺少请求头 Sign"})),
                ),
            )
            .response(
                "400",
                reply("A NUL character (U+0000) in the path, query or body", None),
            )
            .response("408", reply("The body stopped arriving", None))
            .response("413", reply("Body larger than 1 MiB", None))
            .response(
                "503",
                ResponseBuilder::new()
                    .description("The database is unavailable; Mallcoo retries")
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name(<ErrorBody as utoipa::ToSchema>::name())))
                            .build(),
                    )
                    .build(),
            )
            .build()
            .into()
    }
}
