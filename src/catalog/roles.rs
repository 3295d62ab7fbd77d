//! The roles `pg_catalog.pg_roles` lists (psql's `\du`, BI tools' role
//! queries).
//!
//! The catalog owner `postgres`, a superuser, owns every schema and table
//! (as `\l` and `\dn` show); ecomsql's login users live in the users file
//! and are not catalog roles.
//!
//! This provider is passed by value: datafusion-pg-catalog 0.19's
//! `PgCatalogContextProvider for Arc<T>` calls itself, so an `Arc` provider
//! recursed until the stack overflowed and aborted the server on any
//! `SELECT ... FROM pg_roles`.

use async_trait::async_trait;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::context::{
    Grant, Permission, PgCatalogContextProvider, ResourceType, Role,
};

/// The catalog's roles.
#[derive(Debug, Clone, Default)]
pub struct CatalogRoles;

const OWNER: &str = "postgres";

#[async_trait]
impl PgCatalogContextProvider for CatalogRoles {
    async fn roles(&self) -> Vec<String> {
        vec![OWNER.to_string()]
    }

    async fn role(&self, name: &str) -> Option<Role> {
        (name == OWNER).then(|| Role {
            name: OWNER.to_string(),
            is_superuser: true,
            can_login: true,
            can_create_db: false,
            can_create_role: false,
            can_create_user: false,
            can_replication: false,
            grants: vec![Grant {
                permission: Permission::All,
                resource: ResourceType::All,
                granted_by: OWNER.to_string(),
                with_grant_option: false,
            }],
            inherited_roles: vec![],
        })
    }
}
