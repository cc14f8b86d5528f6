//! People who sign in: users with roles, their sessions, and the sign-in rate limit.

pub mod login_limit;
pub mod password;
pub mod sessions;
pub mod users;

use serde::{Deserialize, Serialize};

/// What a person may do; admins may do everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including credentials, users and API keys.
    Admin,
    /// VIP records, coupons and tariffs of its car parks.
    PropertyManager,
    /// Read-only traffic and sessions of its car parks.
    MallStaff,
    /// Staff of one shop: validates its customers' parking on the shop's routes only.
    Merchant,
}

impl Role {
    /// Every role, in the order the UI lists them.
    pub const ALL: [Role; 4] = [
        Role::Admin,
        Role::PropertyManager,
        Role::MallStaff,
        Role::Merchant,
    ];

    /// The stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::PropertyManager => "property_manager",
            Role::MallStaff => "mall_staff",
            Role::Merchant => "merchant",
        }
    }

    /// Parses a stored or typed name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// The signed-in person a request acts for.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CurrentUser {
    /// User id.
    pub id: i64,
    /// Sign-in name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Car parks this user may act on; empty for admins, who may act on all.
    pub parks: Vec<i64>,
    /// The one shop a merchant acts for (`None` for every other role).
    pub shop_id: Option<i64>,
}

impl CurrentUser {
    /// Whether this user may act on car park `park_id`.
    pub fn may_access_park(&self, park_id: i64) -> bool {
        self.role == Role::Admin || self.parks.contains(&park_id)
    }

    /// The audit log's name for this user.
    pub fn actor(&self) -> String {
        format!("user:{}", self.username)
    }
}
