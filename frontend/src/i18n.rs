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
    // UI kit and frame
    PagerRangeOf => "第 {}–{} 条，共 {} 条", "Rows {}–{} of {}";
    PagerRange => "第 {}–{} 条", "Rows {}–{}";
    DateFormatError => "日期格式应为 2026-12-06", "Dates take the form 2026-12-06";
    DateTimeFormatError => "时间格式应为 2026-12-06 08:58", "Times take the form 2026-12-06 08:58";
    ActionFailed => "操作失败：{}", "Failed: {}";
    Close => "关闭", "Close";
    Menu => "菜单", "Menu";
    Created => "已创建", "Created";
    EndSessionsConfirm => "让“{}”在所有设备上退出登录？", "Sign “{}” out everywhere?";
    SessionsEnded => "已退出所有登录", "Signed out everywhere";
    RevokeKeyConfirm => "吊销 API 密钥“{}”？使用它的客户端将立即无法调用。", "Revoke the API key “{}”? Clients using it stop working at once.";
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
    ParkCodeTaken => "车场编号已存在", "A car park with this code already exists";
    MallcooParkIdTaken => "该猫酷 parkId 已被另一个车场使用", "Another car park already has this Mallcoo parkId";
    PyunParkUuidTaken => "另一个已开启 P云车场接入的车场使用了该 P云 park_uuid", "Another car park on P云 car-park access already has this P云 park_uuid";
    ParkUuidRequired => "开启 P云车场接入须填写 P云 park_uuid（P云 用它识别车场）", "P云 car-park access needs the P云 park_uuid (P云 names the car park by it)";
    InvalidCredential => "所选凭据不存在或类型不符", "The chosen credential does not exist or is of the wrong kind";
    InvalidSecret => "密钥须为 1–4096 字节，首尾不能有空格，不能含控制字符", "A secret is 1–4096 bytes, with no spaces at either end and no control characters";
    MissingField => "缺少必填项：{}", "A required field is missing: {}";
    NoPermission => "无权限", "No permission";
    PageNotFound => "页面不存在", "Page not found";
    PageLoadFailed => "页面加载失败，请检查网络后重新打开此页", "This page could not be loaded; check the network and open it again";
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
    RoleMerchant => "商户", "Merchant";
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
    TotalSpaces => "车位总数", "Total spaces";
    TotalSpacesHint => "0–100000，留空表示未配置", "0–100000; empty: not configured";
    TotalSpacesInvalid => "车位总数须为 0–100000 的整数", "Total spaces must be a whole number from 0 to 100000";
    NotConfigured => "未配置", "Not set";
    EditSpaces => "车位数", "Spaces";
    EditSpacesTitle => "修改车位总数", "Edit total spaces";
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
    EditPark => "修改车场", "Edit car park";
    PyunCarparkCredential => "P云车场接入", "P云 car-park access";
    PyunCarparkOff => "无（不开启）", "None (off)";
    PyunCarparkHint => "选择凭据即开启 P云车场接入；开启须填写 P云 park_uuid", "Choosing a credential switches access on; it needs the P云 park_uuid";
    PyunGatewayLink => "P云 网关", "P云 gateway";
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
    KindPyunCarpark => "P云车场接入（上传密钥 + 下行密钥）", "P云 car-park access (upload secret + downlink key)";
    AppIdOptional => "AppID（可选）", "AppID (optional)";
    UploadSecret => "上传密钥（upload_secret）", "Upload secret (upload_secret)";
    UploadSecretHint => "我方向 P云 上传数据时签名用", "Signs what we upload to P云";
    DownlinkKey => "下行密钥（downlink_key）", "Downlink key (downlink_key)";
    DownlinkKeyHint => "P云 调用本网关时签名用", "Signs P云's calls to this gateway";
    BothSecretsRequired => "请填写上传密钥和下行密钥", "Enter both the upload secret and the downlink key";
    SecretToReplace => "要替换的密钥", "Secret to replace";
    SecretFieldRequired => "请选择要替换的密钥", "Choose which secret to replace";
    NewSecret => "新密钥", "New secret";
    // P云 gateway of a car park (admin)
    PyunGatewayTitle => "P云 网关", "P云 gateway";
    AccessState => "接入状态", "Access";
    AccessOn => "已开启", "On";
    AccessOff => "未开启", "Off";
    AccessOffHint => "未开启：在“车场”页修改该车场，选择 P云车场接入凭据并填写 P云 park_uuid。", "Off: edit the car park on the Car parks page, choose a P云 car-park access credential and fill in the P云 park_uuid.";
    GatewayUrl => "网关地址（在 P云 登记）", "Gateway URL (register it with P云)";
    GatewayUrlHint => "P云 的服务器须能访问此地址", "P云's servers must be able to reach this address";
    Copy => "复制", "Copy";
    Copied => "已复制", "Copied";
    CopyFailed => "无法自动复制，地址已选中，请手动复制", "Could not copy; the address is selected, copy it by hand";
    Refresh => "刷新", "Refresh";
    RecentCalls => "最近的调用", "Recent calls";
    RecentCallsHint => "最新的在前；点击一行查看请求和应答", "Newest first; click a row to see the request and the reply";
    GatewayService => "服务", "Service";
    ResultCode => "结果码", "Result code";
    Latency => "耗时", "Latency";
    LatencyMs => "{} 毫秒", "{} ms";
    NoCalls => "尚未收到 P云 的调用", "No calls from P云 yet";
    PyunUploads => "上传记录（P云 上传）", "Uploads to P云";
    PyunUploadsHint => "每辆车的入场和出场都上传到 P云，最新的在前。失败或配置错误的上传不会自动重发：排除原因后点“重新发送失败的上传”。", "Every entry and exit is uploaded to P云, newest first. A failed or misconfigured upload is not sent again by itself: fix the cause, then press “Resend failed uploads”.";
    UploadDirection => "入场/出场", "Entry / exit";
    UploadEnter => "入场", "Entry";
    UploadLeave => "出场", "Exit";
    NoUploads => "尚无上传记录", "No uploads yet";
    ResendFailedUploads => "重新发送失败的上传", "Resend failed uploads";
    UploadsRequeued => "已重新排队 {} 条上传", "{} uploads put back in line";
    SignHintExplain => "P云 忽略了这条上传：签名验证不通过，即该车场 P云车场接入凭据的上传密钥或 P云 park_uuid 有误。下面是 P云 签名所用的明文（密钥已隐去），可与我们的明文对照：", "P云 ignored this upload: its signature check failed, so the car park's upload secret or P云 park_uuid is wrong. Below is the plaintext P云 signed (secret masked), to compare with ours:";
    CallRequest => "请求", "Request";
    CallReply => "应答", "Reply";
    ServiceBilling => "查费", "Billing";
    ServicePaymentResult => "支付通知", "Payment notice";
    ServiceDiscountCreate => "发券", "Coupon granted";
    ServiceDiscountDestroy => "撤券", "Coupon revoked";
    ServiceRealtime => "实时", "Realtime";
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
    // Shops admin (issue 17)
    NavShops => "商户", "Shops";
    ShopsTitle => "商户", "Shops";
    ShopsHint => "商户在收银台为顾客核销停车优惠；每项优惠有每日限额，可另设每月限额。", "Shops validate parking for their customers at the till; each offer has a daily quota and may have a monthly one.";
    ShopStoreCode => "P云门店编码（可选）", "P云 store code (optional)";
    ShopStoreCodeHint => "留空则使用券种自身的 store_code", "Empty: the coupon product's own store_code is sent";
    OffersCount => "优惠数", "Offers";
    NewShop => "新建商户", "New shop";
    EditShop => "修改商户", "Edit shop";
    ShopOffers => "优惠", "Offers";
    OffersOf => "{}的优惠", "Offers of {}";
    ChooseShop => "点击商户的“优惠”查看和设置它可发放的优惠。", "Press a shop's “Offers” to see and set what it may give.";
    NewOffer => "新增优惠", "New offer";
    EditOffer => "修改优惠", "Edit offer";
    OfferGives => "发放内容", "Gives";
    GivesLocal => "本地减免（记入本系统账目）", "A local discount (recorded in our ledger)";
    GivesProduct => "P云 券种（通过 P云 发放）", "A P云 coupon product (granted through P云)";
    GivesFixed => "发放内容创建后不能修改（已核销的按它结算）；如需更改，请停用此优惠并新建一个。", "What an offer gives cannot change once created (its validations are billed by it): disable it and create another.";
    DiscountKindLabel => "减免方式", "Discount kind";
    DiscountAmountYuan => "减免金额（元）", "Amount off (yuan)";
    DailyQuota => "每日限额（次）", "Daily quota (validations)";
    MonthlyQuota => "每月限额（次）", "Monthly quota (validations)";
    MonthlyQuotaHint => "留空表示不限", "Empty: no monthly limit";
    QuotaPerDay => "{} 次/天", "{} a day";
    QuotaPerMonth => "{} 次/月", "{} a month";
    Unlimited => "不限", "No limit";
    WordsMinutes => "免 {} 分钟", "{} min free";
    WordsAmount => "减 {}", "{} off";
    WordsFree => "全免", "Free parking";
    WordsPercent => "减免 {}", "{} off";
    WordsProduct => "P云券：{}", "P云 coupon: {}";
    ShopStatement => "对账单", "Statement";
    ShopNameTaken => "本车场已有同名商户", "This car park already has a shop with this name";
    OfferNameTaken => "该商户已有同名优惠", "This shop already has an offer with this name";
    NameInvalid => "名称须为 1–64 个字符，不能只有空格", "A name is 1–64 characters, not only spaces";
    StoreCodeInvalid => "门店编码最多 64 个字符，不能含控制字符", "A store code is at most 64 characters, with no control characters";
    QuotaInvalid => "限额须为不小于 1 的整数", "A quota is a whole number of at least 1";
    QuotaNotNumber => "限额须为整数", "A quota is a whole number";
    OfferShapeError => "请选择一种发放内容：P云 券种或本地减免", "Choose what it gives: a P云 coupon product or a local discount";
    UnknownProductError => "该车场没有这个可用的券种（可能已归档）", "This car park has no such live coupon product (it may be archived)";
    UnsupportedDiscountError => "商户只能发放金额、时长、全免或折扣减免", "A shop gives an amount, minutes, free parking or a percentage off";
    ShopRequired => "商户账号须选择所属商户", "A merchant account needs its shop";
    UnknownShop => "所选商户不存在", "The chosen shop does not exist";
    UserShop => "所属商户", "Shop";
    UserShopOf => "商户：{}", "Shop: {}";
    NoShops => "该车场还没有商户，请先在“商户”页创建", "This car park has no shops yet: create one on the Shops page";
    StatementTitle => "商户对账单", "Shop statement";
    StatementMonth => "月份", "Month";
    MonthFormatError => "月份格式应为 2026-12", "Months take the form 2026-12";
    PrevMonth => "上个月", "Previous month";
    NextMonth => "下个月", "Next month";
    ValidationKind => "核销方式", "How";
    ValidationPlate => "车牌核销", "Plate at the till";
    ValidationQr => "扫码领券", "QR code scanned";
    CountDelivered => "已发放", "Given";
    CountPending => "处理中", "Pending";
    CountRefused => "被拒绝", "Refused";
    CountUnknown => "结果未知", "Outcome unknown";
    Worth => "价值", "Worth";
    WorthMissing => "另有 {} 笔价值未知", "{} more of unknown worth";
    StatementTotals => "合计", "Total";
    StatementEmpty => "本月没有核销记录", "No validations this month";
    StatementCsv => "下载 CSV（UTF-8）", "Download CSV (UTF-8)";
    StatementCsvGbk => "下载 CSV（GBK，Excel 用）", "Download CSV (GBK, for Excel)";
    BackToShops => "返回商户", "Back to shops";
    // API keys
    ApiKeysTitle => "API 密钥", "API keys";
    NewApiKey => "新建 API 密钥", "New API key";
    Prefix => "前缀", "Prefix";
    Scopes => "权限范围", "Scopes";
    ScopeGate => "道闸 (gate)", "Gate (gate)";
    ScopeCoupons => "优惠券 (coupons)", "Coupons (coupons)";
    ScopeVip => "VIP (vip)", "VIP (vip)";
    ScopeDiscounts => "停车减免 (discounts)", "Parking discounts (discounts)";
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
    StatePending => "等待发送", "Pending";
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
    AppliedToStay => "已应用于停车记录 #{}", "Applied to stay #{}";
    AppliedToWindow => "已应用于该车牌的免费时段", "Applied to the plate's free window";
    AppliedWorth => "抵扣 {}", "worth {}";
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
    MallcooCollects => "扣除优惠后实付", "Paid after benefits";
    TimeFormatHint => "请按 2026-11-23 08:30 的格式输入", "use the form 2026-11-23 08:30";
    FreeMinutesInvalid => "免费时长须为非负整数分钟", "Free minutes must be a whole number ≥ 0";
    NowBeforeEntry => "计费时间早于入场时间", "Billing time is before entry time";
    SampleTariff => "示例收费标准：", "Sample tariff: ";
    TariffSimple => "{} 分钟内免费；首 {} 分钟 {}，之后每 {} 分钟 {}{}。", "free up to {} min; first {} min {}, then every started {} min {}{}.";
    TariffTimeOfDay => "分时段计费，共 {} 个时段{}。", "by time of day, {} periods{}.";
    TariffCap => "，每 24 小时封顶 {}", ", capped at {} per 24 h";
    // VIP (固定车)
    NavVip => "固定车", "VIP cars";
    VipTitle => "固定车", "VIP cars";
    VipImportTitle => "导入固定车", "Import VIP cars";
    VipAddTitle => "新增固定车", "Add a VIP car";
    VipAddToggle => "新增", "Add";
    VipImportLink => "批量导入", "Import CSV";
    VipBack => "返回固定车列表", "Back to VIP cars";
    ExportRecords => "导出固定车 (UTF-8)", "Export cars (UTF-8)";
    ExportRecordsGbk => "导出固定车 (GBK)", "Export cars (GBK)";
    ExportRecharges => "导出充值记录 (UTF-8)", "Export recharges (UTF-8)";
    ExportRechargesGbk => "导出充值记录 (GBK)", "Export recharges (GBK)";
    VipMonthly => "月卡", "Monthly";
    VipStoredValue => "储值卡", "Stored value";
    VipStoredCount => "储次卡", "Stored entries";
    VipStoredDays => "储天卡", "Stored days";
    VipYearly => "年卡", "Yearly";
    VipQuarterly => "季卡", "Quarterly";
    VipHalfYear => "半年卡", "Half-year";
    VipFree => "免费", "Free";
    ColorBlue => "蓝", "Blue";
    ColorYellow => "黄", "Yellow";
    ColorWhite => "白", "White";
    ColorBlack => "黑", "Black";
    ColorGreen => "绿", "Green";
    ColorUnknown => "未知", "Unknown";
    PayCash => "现金", "Cash";
    PayOnline => "线上", "Online";
    SyncNone => "无充值", "No recharges";
    SyncQueued => "排队中", "Queued";
    SyncProblem => "有问题", "Problem";
    ValidNow => "有效", "Valid";
    Expired => "已过期", "Expired";
    Validity => "有效性", "Validity";
    AllValidity => "全部", "All";
    AllTypes => "全部类型", "All types";
    PlateColor => "车牌颜色", "Plate colour";
    CardNo => "卡号", "Card no.";
    CardId => "物理卡号", "Physical card id";
    ChargeType => "收费类型", "Charge type";
    VipType => "VIP类型", "VIP type";
    Period => "有效期", "Period";
    RechargeCount => "充值次数", "Recharges";
    SyncState => "同步状态", "Sync state";
    PlateSearch => "车牌号（包含）", "Plate (contains)";
    PrevPage => "上一页", "Previous";
    NextPage => "下一页", "Next";
    VipQuantity => "数量", "Quantity";
    VipQuantityInvalid => "数量须为非负整数", "Quantity must be a whole number ≥ 0";
    PayType => "支付方式", "Pay type";
    AmountYuan => "金额（元）", "Amount (yuan)";
    AmountInvalid => "金额无效", "Invalid amount";
    FaceValue => "面值（可选）", "Face value (optional)";
    PeriodStart => "开始日期（可选）", "Start date (optional)";
    PeriodEnd => "结束日期（可选）", "End date (optional)";
    PeriodRequired => "免费、储值卡、储次卡须填写开始和结束日期", "Free, stored-value and stored-entries cards need both a start and an end date";
    RenewalZeroQuantity => "按月、季、年或天计的卡，数量须至少为 1", "Cards counted in months or days need a quantity of at least 1";
    RenewalOutOfRange => "有效期将超出 9999 年", "The period would end after the year 9999";
    DatesBothOrNeither => "开始和结束日期须同时填写或同时留空", "Give both dates or neither";
    EndBeforeStart => "结束日期早于开始日期", "The end date is before the start date";
    PeriodGiven => "有效期：{} 00:00:00 至 {} 23:59:59（按填写的日期）", "Period: {} 00:00:00 to {} 23:59:59 (the dates given)";
    PeriodComputed => "有效期将为：{} 至 {}", "The period will be: {} to {}";
    ChargeTypeRequired => "请填写收费类型", "Enter the charge type";
    VipTypeRequired => "请选择VIP类型", "Choose a VIP type";
    VipExists => "该车牌在此车场已有固定车记录", "This plate already has a VIP record in this car park";
    PayPartnerTaken => "支付单号已被使用", "That order number is already used";
    // VIP record page
    RechargesTitle => "充值记录", "Recharges";
    PayPartner => "支付单号", "Order no.";
    PayTime => "支付时间", "Paid at";
    Operator => "操作员", "Operator";
    Source => "来源", "Source";
    SourceUi => "页面", "UI";
    SourceImport => "导入", "Import";
    SourceApi => "接口", "API";
    RenewTitle => "续费", "Renew";
    Renew => "续费", "Renew";
    Renewed => "续费成功", "Renewed";
    // VIP import
    CsvFile => "CSV 文件", "CSV file";
    Encoding => "编码", "Encoding";
    EncodingAuto => "自动", "Automatic";
    EncodingUtf8 => "UTF-8", "UTF-8";
    EncodingGbk => "GBK", "GBK";
    ImportPreview => "预览", "Preview";
    ImportConfirm => "确认导入 {} 行", "Import {} rows";
    ImportNothingWritten => "预览不会写入任何数据；确认导入后才写入。", "A preview writes nothing; rows are written only after confirming.";
    FileRequired => "请选择文件", "Choose a file";
    FileUnreadable => "无法读取文件", "The file cannot be read";
    EncodingUsed => "识别编码：{}", "Encoding: {}";
    DataLines => "数据行：{}", "Data lines: {}";
    ValidLines => "有效行：{}", "Valid rows: {}";
    ImportErrors => "错误", "Errors";
    Line => "行", "Line";
    Column => "列", "Column";
    Message => "说明", "Message";
    PreviewRows => "预览（前 20 行有效数据）", "Preview (first 20 valid rows)";
    ImportCreated => "已导入 {} 条", "Created {}";
    Working => "处理中…", "Working…";
    // VIP sync
    SyncTitle => "P云同步", "P云 sync";
    IncrementalTitle => "增量同步", "Incremental sync";
    QueuedRows => "排队行数：{}", "Queued rows: {}";
    PendingBatches => "待发送批次：{}", "Pending batches: {}";
    ProblemBatches => "问题批次：{}", "Problem batches: {}";
    FullSyncTitle => "全量同步（仅管理员）", "Full sync (administrators only)";
    FullSyncWarning => "全量同步以 complete=1 发送：P云中该车场所有不在本系统中的固定车记录都会被删除。请输入车场名称“{}”以确认。", "A full sync is sent with complete=1: every VIP record P云 holds for this car park that is not in this system is deleted. Type the car park's name “{}” to confirm.";
    ConfirmName => "车场名称", "Car park name";
    StartFullSync => "开始全量同步", "Start full sync";
    JobRunning => "进行中", "Running";
    JobDone => "完成", "Done";
    JobFailed => "失败", "Failed";
    Batches => "批次：{} / {}", "Batches: {} / {}";
    Rows => "行：{} / {}", "Rows: {} / {}";
    RowsPerSecond => "{} 行/秒", "{} rows/s";
    JobStarted => "由 {} 于 {} 开始", "Started by {} at {}";
    Batch => "批次", "Batch";
    ConfirmationMismatch => "车场名称不一致", "The car park name does not match";
    SyncRunning => "已有全量同步在进行中", "A full sync is already running";
    PyunNotConfigured => "该车场未配置 P云 park_uuid 或凭据", "This car park has no P云 park_uuid or credential";
    NothingToSync => "没有可同步的记录", "There is nothing to sync";
    // Tariff editor
    FreeTime => "免费时长（分钟）", "Free time (min)";
    GraceMinutes => "缴费后离场宽限（分钟）", "Grace after payment (min)";
    CycleCap => "每 24 小时封顶（元，可空）", "Cap per 24 h (yuan, optional)";
    PricingKind => "计费方式", "Pricing";
    PricingSimple => "按时长（首段 + 单位）", "By length (first block + units)";
    PricingTimeOfDay => "分时段", "By time of day";
    FirstMinutes => "首段时长（分钟）", "First block (min)";
    FirstPrice => "首段价格（元）", "First block price (yuan)";
    UnitMinutes => "计费单位（分钟）", "Unit (min)";
    UnitPrice => "单位价格（元）", "Unit price (yuan)";
    FirstBlock => "每个周期开始时收首段费", "First block at the start of each cycle";
    TodStart => "开始", "Start";
    TodEnd => "结束", "End";
    PeriodCap => "时段封顶（元，可空）", "Period cap (yuan, optional)";
    AddPeriod => "添加时段", "Add period";
    WholeMinutes => "须为非负整数分钟", "must be a whole number of minutes ≥ 0";
    DayTimeInvalid => "须为 HH:MM（00:00–24:00）", "must be HH:MM (00:00–24:00)";
    TariffPreview => "费用预览", "Fee preview";
    SampleEntry => "以 {} 入场计算（上海时间）", "Entering at {} (Shanghai time)";
    StayLength => "停车时长", "Length of stay";
    Fee => "费用", "Fee";
    HoursValue => "{} 小时", "{} h";
    TryStay => "试算", "Try a stay";
    ExitTime => "出场时间", "Exit time";
    ExitBeforeEntry => "出场时间早于入场时间", "Exit time is before entry time";
    TariffLink => "收费标准", "Tariff";
    TariffJsonEdit => "JSON 编辑", "Edit as JSON";
    // Traffic dashboard
    NavTraffic => "车流看板", "Traffic";
    TrafficTitle => "车流看板", "Traffic dashboard";
    FromDay => "开始日期", "From";
    ToDay => "结束日期", "To";
    Today => "今天", "Today";
    Yesterday => "昨天", "Yesterday";
    Last7Days => "近 7 天", "Last 7 days";
    EntriesTotal => "入场", "Entries";
    ExitsTotal => "出场", "Exits";
    InsideNow => "场内车辆", "Cars inside now";
    FreeSpaces => "余位", "Free spaces";
    OfSpaces => "共 {} 个车位", "of {} spaces";
    OccupancyNow => "占用率", "Occupancy";
    DiscountsBySource => "减免来源", "Discounts by source";
    DiscountSource => "来源", "Source";
    DiscountsGranted => "发放", "Granted";
    DiscountsUsedWorth => "已用抵扣", "Used, worth";
    DiscountByApi => "接口减免", "API discount";
    DiscountByWaiver => "人工减免", "Manual waiver";
    DiscountByPyun => "P云停车券", "P云 coupon";
    DiscountByShop => "商户减免", "Shop validation";
    EntriesExitsPerHour => "每小时入场 / 出场", "Entries / exits per hour";
    OccupancyOverTime => "场内车辆数（每小时末）", "Cars inside (end of each hour)";
    PaymentsByChannel => "缴费渠道", "Payments by channel";
    PayChannel => "渠道", "Channel";
    PayMethod => "支付方式", "Method";
    PaymentCount => "笔数", "Payments";
    PaidAmount => "实付", "Paid";
    DeductionAmount => "抵扣", "Deducted";
    ChannelOnline => "线上", "Online";
    ChannelOffline => "线下", "Offline";
    PayZero => "零元", "Zero amount";
    PayAlipay => "支付宝", "Alipay";
    PayUnionPay => "银联", "UnionPay";
    PayWechat => "微信", "WeChat";
    NoPayments => "该时段暂无缴费", "No payments in this range";
    RefreshedAt => "更新于 {}", "Updated {}";
    // Sessions
    NavSessions => "停车记录", "Sessions";
    SessionsTitle => "停车记录", "Parking sessions";
    PlatePrefix => "车牌号（开头或完整）", "Plate (beginning or whole)";
    SessionOpen => "在场", "Inside";
    SessionClosed => "已出场", "Left";
    SessionNoExit => "未见出场", "No exit seen";
    ExitAt => "出场", "Exit";
    EntryAt => "入场", "Entry";
    Paid => "已付", "Paid";
    Search => "查询", "Search";
    Discounts => "减免", "Discounts";
    Owed => "应付", "Owed";
    // A stay's page
    StayTitle => "停车详情", "Stay";
    StayBack => "返回停车记录", "Back to sessions";
    Gate => "道口：{}", "gate: {}";
    NoVip => "无", "none";
    FigureNow => "当前费用", "What the car owes now";
    FigureAtExit => "出场时费用", "What the car owed at its exit";
    Charge => "停车费", "Parking fee";
    GrowthTitle => "费用增长", "The fee as it grows";
    GrowthHint => "按当前的减免和缴费，在浏览器中用与服务器相同的计费代码计算。", "Computed in the browser by the server's own ledger code, with the discounts and payments above.";
    InMinutes => "{} 分钟后", "in {} min";
    InHours => "{} 小时后", "in {} h";
    DiscountValue => "减免内容", "Discount";
    KindAmount => "金额", "Amount";
    KindMinutes => "时长", "Time";
    KindFree => "全免", "Free";
    KindPercent => "折扣", "Percent off";
    KindFreeWindow => "时段免费", "Free window";
    WorthNow => "当前价值", "Worth now";
    DiscountActive => "生效中", "Active";
    DiscountUsed => "已使用", "Used";
    DiscountRevoked => "已撤销", "Revoked";
    GrantedBy => "发放人", "Granted by";
    GrantedAt => "发放时间", "Granted";
    ByApiKey => "API 密钥 {}", "API key {}";
    PaymentsTitle => "缴费记录", "Payments";
    OrderNo => "订单号", "Order no.";
    ChannelMallcoo => "猫酷", "Mallcoo";
    ChannelPyun => "P云", "P云";
    WaiverTitle => "人工减免", "Waive part of the fee";
    WaiverMinutes => "时长（分钟）", "Time (min)";
    WaiverPercent => "减免比例（%）", "Percent off (%)";
    WaiverReason => "原因（必填）", "Reason (required)";
    Waive => "减免", "Waive";
    WaiverConfirm => "给 {} 人工减免：{}？原因：{}", "For {}, waive {}? Reason: {}";
    WaiverAdded => "已减免", "Waiver recorded";
    ReasonRequired => "请填写原因", "Enter a reason";
    WaiverAmountInvalid => "金额须大于 0，最多两位小数", "The amount must be above 0, with at most two decimals";
    WaiverMinutesInvalid => "时长须为 1–527040 的整数分钟", "The time must be a whole number of minutes from 1 to 527040";
    WaiverPercentInvalid => "减免比例须在 0.1–100 之间，最多一位小数", "The percentage must be from 0.1 to 100, with at most one decimal";
    SessionClosedError => "车辆已出场，不能再减免", "The car has left; the stay can no longer be discounted";
    DiscountValueError => "减免数值超出范围", "The discount's value is out of range";
    // The shop page (merchants, issue 17)
    NavShop => "本店", "My shop";
    PlateTypeProvince => "先按省份简称", "Start with the province";
    PlateIncomplete => "车牌未输完", "The plate is not complete";
    PlateValid => "车牌有效", "A valid plate";
    PlateValidGreen => "新能源车牌有效", "A valid new-energy plate";
    PlateBackspace => "退格", "Backspace";
    PlateClear => "清空", "Clear";
    ShopValidateTitle => "验证车牌", "Validate a plate";
    ShopOffer => "优惠", "Offer";
    ShopTodayUse => "今日 {}/{}", "Today {}/{}";
    ShopMonthUse => "本月 {}/{}", "This month {}/{}";
    ShopValidate => "验证", "Validate";
    ShopChooseOffer => "请选择优惠", "Choose an offer";
    ShopPlateFirst => "请先输入有效车牌", "Type a valid plate first";
    ShopNoOffers => "本店还没有可用的优惠，请联系物业", "This shop has no offers yet; ask the property office";
    ShopDelivered => "已送达", "Delivered";
    ShopOwedNow => "该车现需支付 {}", "The car now owes {}";
    ShopPending => "P云 尚未答复，请稍后点“刷新结果”", "P云 has not answered yet; press “Refresh result” in a moment";
    ShopRefreshResult => "刷新结果", "Refresh result";
    ShopRefused => "被拒绝：{}", "Refused: {}";
    ShopRefusedNoReason => "被拒绝", "Refused";
    ShopUnknown => "结果未知，请联系物业核对", "Outcome unknown; ask the property office to check";
    ShopQuotaDaily => "今日额度已用完（{} 次）", "Today's quota is used up ({})";
    ShopQuotaMonthly => "本月额度已用完（{} 次）", "This month's quota is used up ({})";
    ShopNotParked => "该车不在场内，无法减免", "This car is not parked here";
    ShopOfferInactive => "该优惠已停用", "This offer is switched off";
    ShopUnknownOffer => "该优惠已不存在，请刷新页面", "This offer no longer exists; reload the page";
    ShopRetrySame => "未收到答复，请再按一次（不会重复验证）：{}", "No answer; press again (it will not validate twice): {}";
    ShopQrTitle => "二维码领券", "QR code for the customer";
    ShopQrSingle => "单次：一人领取后失效", "Single use: dies at the first claim";
    ShopQrTimed => "限时：有效期内多人可领", "Timed: anyone may claim until it expires";
    ShopQrLife => "有效期", "Valid for";
    ShopQrMinutes => "{} 分钟", "{} min";
    ShopQrHours => "{} 小时", "{} h";
    ShopQrGenerate => "生成二维码", "Make a QR code";
    ShopQrCountdown => "剩余 {}", "{} left";
    ShopQrExpired => "已过期，请点“刷新”", "Expired; press Refresh";
    ShopQrScan => "请顾客扫码领取停车券", "Ask the customer to scan it";
    ShopQrNoPyunOffer => "本店没有 P云 停车券，不能生成二维码", "This shop has no P云 coupon to show as a QR code";
    ShopQrRefused => "P云 拒绝生成二维码：{}（未扣额度）", "P云 refused the QR code: {} (no quota used)";
    ShopQrFailed => "P云 出错：{}。请点“刷新”再试", "P云 failed: {}. Press Refresh to try again";
    ShopQrUnreachable => "连不上 P云，未扣额度；请稍后点“刷新”", "P云 cannot be reached (no quota used); press Refresh in a moment";
    ShopQrTimeout => "P云 没有及时答复。请点“刷新”生成新的二维码", "P云 did not answer in time. Press Refresh for a new QR code";
    ShopQrNotPyun => "该优惠不是 P云 停车券，不能生成二维码", "This offer is not a P云 coupon and cannot be a QR code";
    ShopTodayTitle => "今日用量", "Used today";
    ShopHistory => "今日记录", "Today's history";
    ShopTime => "时间", "Time";
    ShopWhat => "车牌 / 二维码", "Plate / QR code";
    ShopQrKind => "二维码", "QR code";
    // Alerting (issue 18)
    NavProblems => "问题", "Problems";
    NavAlerts => "告警通道", "Alert channels";
    ProblemsIndicator => "未解决问题 {}", "Open problems: {}";
    ProblemsBadge => "问题", "⚠";
    ProblemsTitle => "问题", "Problems";
    OpenProblems => "未解决", "Open";
    ResolvedProblems => "最近已解决", "Recently resolved";
    NoOpenProblems => "没有未解决的问题", "No open problems";
    NoResolvedProblems => "最近没有已解决的问题", "Nothing resolved recently";
    ProblemSince => "开始于", "Since";
    ProblemCount => "次数", "Count";
    ProblemLastSeen => "最近发生", "Last seen";
    ProblemResolvedAt => "解决于", "Resolved at";
    ProblemExamples => "示例", "Examples";
    ProblemAdvice => "处理建议", "What to do";
    ProblemFix => "去处理", "Fix it";
    ProblemSubject => "对象", "Subject";
    AlertChannelsTitle => "告警通道", "Alert channels";
    AlertChannelsHint => "问题出现、持续和解决时，发送到企业微信、钉钉、飞书群机器人或 Webhook。URL 和签名密钥只写不读。", "Problems are sent to WeCom, DingTalk or Feishu group robots or a webhook when they open, persist and clear. URLs and signing secrets are write-only.";
    ChannelKindWecom => "企业微信", "WeCom";
    ChannelKindDingtalk => "钉钉", "DingTalk";
    ChannelKindFeishu => "飞书", "Feishu";
    ChannelKindWebhook => "Webhook", "Webhook";
    ChannelUrl => "URL", "URL";
    ChannelUrlHint => "机器人的 Webhook 地址，按厂商显示的原样粘贴", "The robot's webhook address, pasted as the vendor shows it";
    ChannelSecret => "签名密钥", "Signing secret";
    ChannelSecretHint => "钉钉 SEC… 或飞书签名校验密钥；Webhook 的 HMAC 密钥。修改时留空表示不变", "DingTalk SEC… or Feishu signing secret; the webhook's HMAC key. Left empty when editing: unchanged";
    ChannelHasSecret => "签名", "Signed";
    ChannelKeyword => "关键词", "Keyword";
    ChannelKinds => "问题类型", "Problem kinds";
    ChannelAllKinds => "全部类型", "All kinds";
    ChannelParksHint => "不选即全部车场（含以后新建的）", "None chosen: every car park, new ones included";
    ChannelKindsHint => "不选即全部类型", "None chosen: every kind";
    ChannelLanguage => "语言", "Language";
    ChannelState => "状态", "State";
    ChannelLastAnswer => "最近回复", "Last answer";
    ChannelStateUntested => "未测试", "Untested";
    ChannelStateOk => "正常", "OK";
    ChannelStateMisconfigured => "配置错误", "Misconfigured";
    ChannelStateFailing => "发送失败", "Failing";
    ChannelPaused => "已暂停", "Paused";
    ChannelActive => "启用中", "Active";
    NewAlertChannel => "新建告警通道", "New alert channel";
    EditAlertChannel => "修改告警通道", "Edit alert channel";
    ChannelPause => "暂停", "Pause";
    ChannelResume => "恢复", "Resume";
    ChannelRemoveSecret => "移除签名密钥", "Remove secret";
    ChannelSecretRemoved => "已移除签名密钥", "Secret removed";
    ChannelDeleteConfirm => "删除告警通道“{}”？", "Delete the alert channel “{}”?";
    Delete => "删除", "Delete";
    Deleted => "已删除", "Deleted";
    SendTestMessage => "发送测试消息", "Send a test message";
    TestSending => "发送中…", "Sending…";
    OutcomeDelivered => "已送达", "Delivered";
    OutcomeRateLimited => "被限流，稍后重发", "Rate limited, sent later";
    OutcomeMisconfigured => "配置错误，被拒绝", "Refused: misconfigured";
    OutcomeRefused => "被拒绝", "Refused";
    OutcomeTransient => "未送达（网络或服务暂时不可用）", "Not delivered (network or service unavailable)";
    VendorCode => "厂商代码", "Vendor code";
    YesLabel => "是", "Yes";
    NoLabel => "否", "No";
    InvalidFieldError => "字段不合法", "A field is invalid";
    InvalidUrlError => "URL 不合法：应为 http(s):// 开头的完整地址", "Invalid URL: a full http(s):// address";
    InvalidChannelError => "不是该类型机器人的地址（企业微信需含 key=，钉钉需含 access_token=，飞书需含 /open-apis/bot/v2/hook/）", "Not a robot URL of this kind (WeCom needs key=, DingTalk access_token=, Feishu /open-apis/bot/v2/hook/)";
    DingtalkSecretError => "钉钉签名密钥以 SEC 开头", "A DingTalk signing secret starts with SEC";
    WecomSecretError => "企业微信机器人没有签名密钥，请留空", "WeCom robots have no signing secret: leave it empty";
    ChannelNameInvalid => "名称须为 1–64 个字符，首尾不能有空格", "A name is 1–64 characters, no spaces at either end";
    KeywordInvalid => "关键词须为 1–32 个字符，首尾不能有空格", "A keyword is 1–32 characters, no spaces at either end";
    UnknownParkError => "车场不存在", "No such car park";
    UnknownProblemKindError => "未知的问题类型", "Unknown problem kind";
    ChannelNameTaken => "通道名称已存在", "That channel name is taken";
    ShopStatePending => "等待 P云", "Waiting for P云";
    ChannelSendsTitle => "最近发送", "Last sends";
    ChannelSendsHint => "每个通道最近 10 条消息，最新的在前；被限流或暂时失败的消息会自动重发", "Each channel's last 10 messages, newest first; rate-limited or failed ones are sent again by themselves";
    NoChannelSends => "还没有发送过消息", "Nothing sent yet";
    SendOpened => "首次", "First";
    SendUpdated => "更新", "Update";
    SendReminder => "提醒", "Reminder";
    SendResolved => "已恢复", "Resolved";
    SendTest => "测试", "Test";
    SendQueued => "排队中", "Queued";
    SendSending => "发送中", "Sending";
    SendRetrying => "暂时失败，将重试", "Failed for now, will retry";
    SendRateLimited => "被限流，将重试", "Rate limited, will retry";
    SendSent => "已送达", "Sent";
    SendMisconfigured => "配置错误", "Misconfigured";
    SendRefused => "被拒绝", "Refused";
    SendFailed => "失败", "Failed";
    SendRetryAt => "重试于 {}", "retry at {}";
    NavSystem => "系统", "System";
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
