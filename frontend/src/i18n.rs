//! The one translation table: every user-visible string, in Chinese (default) and English.
//!
//! The chosen language lives in a signal provided at the root, so switching re-renders every
//! text at once; it is remembered in `localStorage` across reloads.

use leptos::prelude::*;

/// A display language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    /// 简体中文, the default.
    Zh,
    /// English.
    En,
}

impl Lang {
    fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    fn from_code(code: &str) -> Option<Lang> {
        match code {
            "zh-CN" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// Declares `Text` and its `(zh, en)` texts in one place, so no string can miss a translation.
macro_rules! table {
    ($($key:ident => $zh:literal, $en:literal;)*) => {
        /// A translatable text.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Text { $($key,)* }

        impl Text {
            /// The text in `lang`; `{}` marks are filled by [`fill`].
            pub(crate) fn text(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((Text::$key, Lang::Zh) => $zh, (Text::$key, Lang::En) => $en,)*
                }
            }
        }
    };
}

table! {
    AppTitle => "ParkBridge 停车对接网关", "ParkBridge parking gateway";
    SwitchLanguage => "English", "中文";
    Loading => "加载中…", "Loading…";
    // Health badge
    HealthConnecting => "连接中…", "Connecting…";
    HealthOk => "服务正常", "Service OK";
    HealthDegraded => "服务异常: {}", "Service degraded: {}";
    HealthUnreachable => "无法连接: {}", "Unreachable: {}";
    // Errors
    NetworkError => "网络错误: {}", "Network error: {}";
    BadResponse => "响应格式错误: {}", "Malformed response: {}";
    BadCredentials => "用户名或密码错误", "Wrong username or password";
    TooManyRequests => "尝试次数过多，请 15 分钟后再试", "Too many attempts; try again in 15 minutes";
    Unauthorized => "请先登录", "Please sign in";
    ForbiddenError => "无权执行此操作", "You may not do this";
    NotFoundError => "不存在", "Not found";
    DuplicateName => "名称已存在", "That name is already taken";
    NoPermission => "无权限", "No permission";
    PageNotFound => "页面不存在", "Page not found";
    // Sign-in and layout
    SignIn => "登录", "Sign in";
    SignOut => "退出登录", "Sign out";
    Username => "用户名", "Username";
    Password => "密码", "Password";
    NavParks => "车场", "Car parks";
    NavCredentials => "凭据", "Credentials";
    NavUsers => "用户", "Users";
    NavApiKeys => "API 密钥", "API keys";
    NavAudit => "审计日志", "Audit log";
    NavPreview => "费用预览", "Fee preview";
    NavCoupons => "优惠券", "Coupons";
    RoleAdmin => "管理员", "Administrator";
    RolePropertyManager => "物业管理员", "Property manager";
    RoleMallStaff => "商场员工", "Mall staff";
    // Common form words
    Name => "名称", "Name";
    Create => "创建", "Create";
    Save => "保存", "Save";
    Cancel => "取消", "Cancel";
    Saved => "已保存", "Saved";
    Actions => "操作", "Actions";
    CreatedAt => "创建时间", "Created";
    UpdatedAt => "更新时间", "Updated";
    Empty => "暂无数据", "Nothing yet";
    AllParks => "全部车场", "All car parks";
    // Car parks
    ParksTitle => "车场", "Car parks";
    NewPark => "新建车场", "New car park";
    ParkCode => "编号", "Code";
    PyunParkUuid => "P云 park_uuid", "P云 park_uuid";
    PyunStoreCode => "P云 api_store_code", "P云 api_store_code";
    PyunMerchant => "P云 merchant", "P云 merchant";
    MallcooParkId => "猫酷 parkId", "Mallcoo parkId";
    MallcooParkCode => "猫酷 ParkCode", "Mallcoo ParkCode";
    Tariff => "收费标准", "Tariff";
    NoCredential => "（无）", "(none)";
    PyunCredential => "P云凭据", "P云 credential";
    MallcooOutCredential => "猫酷出站凭据", "Mallcoo outbound credential";
    MallcooInCredential => "猫酷入站凭据", "Mallcoo inbound credential";
    ParkCodeHint => "小写字母、数字、- 和 _", "lower-case letters, digits, - and _";
    EditTariff => "编辑收费标准", "Edit tariff";
    TariffHint => "收费标准 JSON（保存前在浏览器中校验）", "Tariff JSON (checked in the browser before saving)";
    TariffJsonInvalid => "JSON 格式错误", "Invalid JSON";
    TariffInvalid => "收费标准无效", "Invalid tariff";
    ReadOnly => "只读", "read-only";
    // Credentials
    CredentialsTitle => "凭据", "Credentials";
    NewCredential => "新建凭据", "New credential";
    Kind => "类型", "Kind";
    KindPyun => "P云 (app_id + app_secret)", "P云 (app_id + app_secret)";
    KindMallcooOutbound => "猫酷出站（我方调用猫酷）", "Mallcoo outbound (we call Mallcoo)";
    KindMallcooInbound => "猫酷入站（猫酷调用我方，由我方签发密钥）", "Mallcoo inbound (Mallcoo calls us; we issue the keys)";
    AppId => "AppID", "AppID";
    AppSecret => "AppSecret", "AppSecret";
    PublicKey => "公钥", "Public key";
    PrivateKey => "私钥", "Private key";
    SecretWriteOnly => "密钥只能写入，不能读取。", "Secrets can be written, never read back.";
    ReplaceSecret => "替换密钥", "Replace secret";
    Rotate => "轮换密钥对", "Rotate key pair";
    SecretReplaced => "密钥已替换", "Secret replaced";
    IssuedWarning => "请立即复制并交给猫酷：私钥只显示这一次，关闭后无法再次查看。", "Copy this now and hand it to Mallcoo: the private key is shown only this once and cannot be viewed again.";
    Dismiss => "我已保存，关闭", "I have saved it, close";
    // Users
    UsersTitle => "用户", "Users";
    NewUser => "新建用户", "New user";
    Role => "角色", "Role";
    Parks => "车场", "Car parks";
    Disabled => "已停用", "Disabled";
    Active => "正常", "Active";
    Status => "状态", "Status";
    Disable => "停用", "Disable";
    Enable => "启用", "Enable";
    Edit => "修改", "Edit";
    NewPassword => "新密码", "New password";
    NewPasswordHint => "留空则不修改", "leave empty to keep";
    EndSessions => "强制下线", "Sign out everywhere";
    // API keys
    ApiKeysTitle => "API 密钥", "API keys";
    NewApiKey => "新建 API 密钥", "New API key";
    Prefix => "前缀", "Prefix";
    Scopes => "权限范围", "Scopes";
    ScopeGate => "道闸 (gate)", "Gate (gate)";
    ScopeCoupons => "优惠券 (coupons)", "Coupons (coupons)";
    ScopeVip => "VIP (vip)", "VIP (vip)";
    Park => "车场", "Car park";
    LastUsed => "最近使用", "Last used";
    Never => "从未", "never";
    Revoked => "已吊销", "Revoked";
    Revoke => "吊销", "Revoke";
    NewKeyWarning => "这是新密钥，只显示这一次，请立即复制保存：", "This is the new key. It is shown only this once; copy it now:";
    ScopesRequired => "至少选择一个权限范围", "Choose at least one scope";
    // Audit
    AuditTitle => "审计日志", "Audit log";
    At => "时间", "When";
    Actor => "操作者", "Actor";
    Action => "动作", "Action";
    Target => "对象", "Target";
    Detail => "详情", "Detail";
    More => "更多", "More";
    NoMore => "没有更多了", "No more entries";
    // Coupons
    CouponsTitle => "优惠券", "Coupons";
    GrantTitle => "手动发券", "Grant a coupon";
    Product => "券种", "Coupon product";
    NoProducts => "该车场尚未配置券种", "This car park has no coupon products yet";
    Plate => "车牌号", "Plate";
    PlateNormalised => "车牌号：{}", "Plate: {}";
    Reason => "原因（可选）", "Reason (optional)";
    ReasonColumn => "原因", "Reason";
    Grant => "发券", "Grant";
    Granting => "发送中…", "Sending…";
    GrantAccepted => "已受理，结果出来后会在下方列表中更新。", "Accepted; the outcome will appear in the list below.";
    RecordsTitle => "发券记录", "Coupon records";
    Filter => "筛选", "Apply filters";
    AllStates => "全部状态", "All states";
    DateFrom => "开始日期", "From date";
    DateTo => "结束日期", "To date";
    DateInvalid => "日期格式应为 2026-11-23", "Dates take the form 2026-11-23";
    KindColumn => "类型", "Kind";
    KindEvent => "活动", "Event";
    KindGrant => "手动发放", "Manual grant";
    Summary => "内容", "Summary";
    State => "状态", "State";
    PyunAnswer => "P云结果", "P云 answer";
    Seqno => "流水号", "Seqno";
    GrantSerial => "券流水号", "Grant serial";
    Attempts => "尝试次数", "Attempts";
    RequestedBy => "发起人", "Requested by";
    NextAttempt => "下次重试：{}", "Next attempt: {}";
    StatePending => "待发送", "Pending";
    StateSending => "发送中", "Sending";
    StateDelivered => "已送达", "Delivered";
    StateRejected => "被拒绝", "Rejected";
    StateMisconfigured => "配置错误", "Misconfigured";
    StateUnknown => "结果未知", "Outcome unknown";
    StateFailed => "失败", "Failed";
    MarkReconciled => "标记已核对", "Mark reconciled";
    ReconcileTitle => "核对结果未知的记录 #{} · {}", "Reconcile record #{} · {}";
    ReconcileHint => "请在 P云 后台确认该券是否到账后再标记。", "Check in P云 whether the coupon arrived before marking it.";
    Resolution => "核对结果", "Resolution";
    ResolvedDelivered => "已到账", "Delivered";
    ResolvedNotDelivered => "未到账", "Not delivered";
    Note => "备注", "Note";
    ResolutionRequired => "请选择核对结果", "Choose a resolution";
    Confirm => "确认", "Confirm";
    ReconciledBy => "已核对：{}（{} {}）", "Reconciled: {} ({} {})";
    ProductRequired => "请选择券种", "Choose a coupon product";
    ParkRequired => "请选择车场", "Choose a car park";
    // Plate errors, from the protocol crate's `PlateError`
    PlateEmpty => "请输入车牌号", "Enter a plate";
    PlateTooLong => "车牌号过长", "The plate is too long";
    PlateUnknownProvince => "“{}”不是省份简称", "“{}” is not a province abbreviation";
    PlateBadAuthority => "第 2 位须为发牌机关字母（A-Z，不含 I 和 O）", "The 2nd character must be a letter A-Z other than I and O";
    PlateBadLength => "字母后有 {} 位，应为 5 位（普通车牌）或 6 位（新能源车牌）", "{} characters after the letter; expected 5 (ordinary) or 6 (new-energy)";
    PlateBadCharacter => "第 {} 位不能是“{}”", "Character {} may not be “{}”";
    PlateBadNewEnergy => "新能源车牌应为 D/F + 字母或数字 + 4 位数字，或 5 位数字 + D/F", "A new-energy serial is D/F + letter-or-digit + 4 digits, or 5 digits + D/F";
    PlateBadEmbassy => "使馆车牌应为“使”加 6 位数字", "An embassy plate is 使 followed by 6 digits";
    PlateInvalid => "车牌号无效", "Invalid plate";
    // Coupon settings (admin)
    CouponSettings => "优惠券设置", "Coupon settings";
    CouponSettingsTitle => "优惠券设置 · {}", "Coupon settings · {}";
    EventSettings => "活动券设置", "Event coupons";
    ApiType => "P云 api_type", "P云 api_type";
    ApiTypeHint => "留空表示不设置", "leave empty for none";
    MetadataKeys => "附加字段", "Metadata keys";
    MetadataKey => "字段", "Key";
    MetadataName => "显示名称", "Display name";
    AddRow => "添加一行", "Add a row";
    Remove => "删除", "Remove";
    MetadataIncomplete => "每行的字段和显示名称都必须填写", "Every row needs both a key and a display name";
    MetadataDuplicate => "字段重复", "Duplicate key";
    Products => "券种", "Coupon products";
    NewProduct => "新建券种", "New coupon product";
    EditProduct => "修改券种", "Edit coupon product";
    CouponCode => "P云 coupon_code", "P云 coupon_code";
    StoreCode => "P云 store_code", "P云 store_code";
    Quantity => "每次张数", "Quantity per grant";
    QuantityInvalid => "张数须为正整数", "Quantity must be a whole number ≥ 1";
    ProductFieldsRequired => "名称、coupon_code 和 store_code 必须填写", "Name, coupon_code and store_code are required";
    Archive => "归档", "Archive";
    Archived => "已归档", "Archived";
    ArchiveConfirm => "归档券种“{}”？归档后不能再发放，已有记录保留。", "Archive “{}”? It can no longer be granted; its records are kept.";
    // Fee preview
    PreviewTitle => "停车费预览", "Parking fee preview";
    EntryTime => "入场时间", "Entry time";
    QueryTime => "计费时间", "Billing time";
    FreeMinutes => "猫酷免费时长（分钟）", "Mallcoo free minutes";
    ParkingMinutes => "停车时长", "Parking time";
    MinutesValue => "{} 分钟", "{} min";
    Deduction => "优惠抵扣", "Deduction";
    Unpaid => "本次应付", "Amount due";
    TimeFormatHint => "请按 2026-11-23 08:30 的格式输入", "use the form 2026-11-23 08:30";
    FreeMinutesInvalid => "免费时长须为非负整数分钟", "Free minutes must be a whole number ≥ 0";
    NowBeforeEntry => "计费时间早于入场时间", "Billing time is before entry time";
    SampleTariff => "示例收费标准：", "Sample tariff: ";
    TariffSimple => "{} 分钟内免费；首 {} 分钟 {}，之后每 {} 分钟 {}{}。", "free up to {} min; first {} min {}, then every started {} min {}{}.";
    TariffTimeOfDay => "分时段计费，共 {} 个时段{}。", "by time of day, {} periods{}.";
    TariffCap => "，每 24 小时封顶 {}", ", capped at {} per 24 h";
}

/// Fills the `{}` marks of `template` with `args`, in order.
pub(crate) fn fill(template: &str, args: &[&str]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    let mut args = args.iter();
    while let Some(at) = rest.find("{}") {
        out.push_str(&rest[..at]);
        out.push_str(args.next().copied().unwrap_or(""));
        rest = &rest[at + 2..];
    }
    out.push_str(rest);
    out
}

const STORAGE_KEY: &str = "parkbridge.lang";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn mark_document(lang: Lang) {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("lang", lang.code());
    }
}

/// Provides the language signal at the root, starting from the remembered choice (else zh-CN).
pub(crate) fn provide_language() {
    let saved = storage()
        .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
        .and_then(|code| Lang::from_code(&code))
        .unwrap_or(Lang::Zh);
    mark_document(saved);
    provide_context(RwSignal::new(saved));
}

/// The current language signal.
pub(crate) fn lang() -> RwSignal<Lang> {
    expect_context::<RwSignal<Lang>>()
}

/// Switches language, remembering the choice.
pub(crate) fn set_lang(lang_signal: RwSignal<Lang>, lang: Lang) {
    if let Some(s) = storage() {
        let _ = s.set_item(STORAGE_KEY, lang.code());
    }
    mark_document(lang);
    lang_signal.set(lang);
}

/// A reactive text for `key`, for use directly in views and attributes.
pub(crate) fn tr(key: Text) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let lang = lang();
    move || key.text(lang.get())
}

/// The header button switching between Chinese and English.
#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let lang = lang();
    view! {
        <button class="lang" data-testid="lang-switch" on:click=move |_| {
            let next = if lang.get_untracked() == Lang::Zh { Lang::En } else { Lang::Zh };
            set_lang(lang, next);
        }>{tr(Text::SwitchLanguage)}</button>
    }
}
