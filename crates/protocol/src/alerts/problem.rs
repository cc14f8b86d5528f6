//! What ParkBridge detects as a problem, and how each kind is named to people.

use serde::{Deserialize, Serialize};

/// The language of a channel's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Language {
    /// Simplified Chinese, the default.
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    /// English.
    #[serde(rename = "en")]
    En,
}

impl Language {
    /// The stored and API name (`zh-CN`, `en`).
    pub fn as_str(self) -> &'static str {
        match self {
            Language::ZhCn => "zh-CN",
            Language::En => "en",
        }
    }

    /// Reads a stored or API name.
    pub fn parse(s: &str) -> Option<Language> {
        match s {
            "zh-CN" | "zh" => Some(Language::ZhCn),
            "en" => Some(Language::En),
            _ => None,
        }
    }
}

/// A kind of problem: what is wrong, independent of where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// A partner refused one of our credentials (P云 `401`/`1401`/signature hint, Mallcoo `1101`).
    CredentialRefused,
    /// Deliveries whose retries are exhausted (`failed`).
    DeliveriesFailed,
    /// The oldest undelivered outbox row is older than the threshold.
    DeliveriesStuck,
    /// Coupon grants left `unknown`, waiting for a person to settle them.
    CouponsUnknown,
    /// A partner answered nothing but transient failures for the threshold's length.
    PartnerUnreachable,
    /// Calls from P云 to our gateway failing our signature check.
    DownlinkSignature,
    /// No entry or exit at a car park for the threshold's length, outside quiet hours.
    GateSilence,
    /// A VIP full sync made no batch progress for the threshold's length.
    VipSyncStuck,
    /// A shop's offer used ≥ 90 % of its daily quota or monthly budget.
    ShopQuotaNearlyUsed,
    /// An alert channel refused our messages (signature, keyword, IP allowlist or URL).
    ChannelMisconfigured,
}

impl ProblemKind {
    /// Every kind, in the order the UI lists them.
    pub const ALL: [ProblemKind; 10] = [
        ProblemKind::CredentialRefused,
        ProblemKind::DeliveriesFailed,
        ProblemKind::DeliveriesStuck,
        ProblemKind::CouponsUnknown,
        ProblemKind::PartnerUnreachable,
        ProblemKind::DownlinkSignature,
        ProblemKind::GateSilence,
        ProblemKind::VipSyncStuck,
        ProblemKind::ShopQuotaNearlyUsed,
        ProblemKind::ChannelMisconfigured,
    ];

    /// The stored and API name (`credential_refused`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::CredentialRefused => "credential_refused",
            ProblemKind::DeliveriesFailed => "deliveries_failed",
            ProblemKind::DeliveriesStuck => "deliveries_stuck",
            ProblemKind::CouponsUnknown => "coupons_unknown",
            ProblemKind::PartnerUnreachable => "partner_unreachable",
            ProblemKind::DownlinkSignature => "downlink_signature",
            ProblemKind::GateSilence => "gate_silence",
            ProblemKind::VipSyncStuck => "vip_sync_stuck",
            ProblemKind::ShopQuotaNearlyUsed => "shop_quota_nearly_used",
            ProblemKind::ChannelMisconfigured => "channel_misconfigured",
        }
    }

    /// Reads a stored or API name.
    pub fn parse(s: &str) -> Option<ProblemKind> {
        ProblemKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// What is wrong, in a few words, for a message's title.
    pub fn title(self, language: Language) -> &'static str {
        match (self, language) {
            (ProblemKind::CredentialRefused, Language::ZhCn) => "对接凭证被拒绝",
            (ProblemKind::CredentialRefused, Language::En) => "Credential refused",
            (ProblemKind::DeliveriesFailed, Language::ZhCn) => "推送多次重试后失败",
            (ProblemKind::DeliveriesFailed, Language::En) => "Deliveries failed after retries",
            (ProblemKind::DeliveriesStuck, Language::ZhCn) => "推送积压未送达",
            (ProblemKind::DeliveriesStuck, Language::En) => "Deliveries stuck",
            (ProblemKind::CouponsUnknown, Language::ZhCn) => "优惠券发放结果未知，待人工核对",
            (ProblemKind::CouponsUnknown, Language::En) => "Coupon grants unknown, to settle",
            (ProblemKind::PartnerUnreachable, Language::ZhCn) => "对接平台无法连接",
            (ProblemKind::PartnerUnreachable, Language::En) => "Partner unreachable",
            (ProblemKind::DownlinkSignature, Language::ZhCn) => "P云回调签名校验失败",
            (ProblemKind::DownlinkSignature, Language::En) => {
                "P云 calls failing our signature check"
            }
            (ProblemKind::GateSilence, Language::ZhCn) => "道闸长时间无进出记录",
            (ProblemKind::GateSilence, Language::En) => "No gate events",
            (ProblemKind::VipSyncStuck, Language::ZhCn) => "VIP 全量同步停滞",
            (ProblemKind::VipSyncStuck, Language::En) => "VIP full sync stuck",
            (ProblemKind::ShopQuotaNearlyUsed, Language::ZhCn) => "商户优惠额度即将用完",
            (ProblemKind::ShopQuotaNearlyUsed, Language::En) => "Shop quota nearly used",
            (ProblemKind::ChannelMisconfigured, Language::ZhCn) => "告警通道配置错误",
            (ProblemKind::ChannelMisconfigured, Language::En) => "Alert channel misconfigured",
        }
    }

    /// What a person should do about it, one sentence.
    pub fn advice(self, language: Language) -> &'static str {
        match (self, language) {
            (ProblemKind::CredentialRefused, Language::ZhCn) => {
                "请核对凭证的密钥与编码是否与平台一致。"
            }
            (ProblemKind::CredentialRefused, Language::En) => {
                "Check the credential's secret and codes against the partner's."
            }
            (ProblemKind::DeliveriesFailed, Language::ZhCn) => "请查看失败原因，处理后重新发送。",
            (ProblemKind::DeliveriesFailed, Language::En) => {
                "See why they failed, fix it and resend."
            }
            (ProblemKind::DeliveriesStuck, Language::ZhCn) => "请检查网络与对接平台的状态。",
            (ProblemKind::DeliveriesStuck, Language::En) => {
                "Check the network and the partner's status."
            }
            (ProblemKind::CouponsUnknown, Language::ZhCn) => "请在 P云 后台核对后标记结果。",
            (ProblemKind::CouponsUnknown, Language::En) => {
                "Check them in P云's console and settle each."
            }
            (ProblemKind::PartnerUnreachable, Language::ZhCn) => "请检查服务器的网络与平台地址。",
            (ProblemKind::PartnerUnreachable, Language::En) => {
                "Check the server's network and the partner's address."
            }
            (ProblemKind::DownlinkSignature, Language::ZhCn) => {
                "请核对车场侧密钥；若非 P云 调用，可能有人在试探。"
            }
            (ProblemKind::DownlinkSignature, Language::En) => {
                "Check the car-park key; if not P云, someone may be probing."
            }
            (ProblemKind::GateSilence, Language::ZhCn) => "请检查相机与道闸控制器是否在线。",
            (ProblemKind::GateSilence, Language::En) => {
                "Check that the cameras and gate controller are online."
            }
            (ProblemKind::VipSyncStuck, Language::ZhCn) => {
                "请查看同步任务的最近一批与 P云 的回复。"
            }
            (ProblemKind::VipSyncStuck, Language::En) => {
                "See the sync's last batch and P云's answers."
            }
            (ProblemKind::ShopQuotaNearlyUsed, Language::ZhCn) => "如需继续发放，请调整商户额度。",
            (ProblemKind::ShopQuotaNearlyUsed, Language::En) => {
                "Raise the shop's quota if it should go on giving."
            }
            (ProblemKind::ChannelMisconfigured, Language::ZhCn) => {
                "请核对机器人地址、签名密钥、关键词与 IP 白名单。"
            }
            (ProblemKind::ChannelMisconfigured, Language::En) => {
                "Check the robot's URL, signing secret, keyword and IP allowlist."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_name() {
        for kind in ProblemKind::ALL {
            assert_eq!(ProblemKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(ProblemKind::parse("gate"), None);
    }

    #[test]
    fn languages_read_back() {
        for l in [Language::ZhCn, Language::En] {
            assert_eq!(Language::parse(l.as_str()), Some(l));
        }
        assert_eq!(Language::parse("fr"), None);
    }
}
