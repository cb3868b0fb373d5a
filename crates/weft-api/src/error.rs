//! API errors: every refusal is JSON `{code, number, message}` with a fitting HTTP status.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use weft_types::{ErrorCode, TxError};

/// An API error.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    number: u16,
    message: &'a str,
}

/// The HTTP status for an error code.
pub fn status_for(code: ErrorCode) -> StatusCode {
    use ErrorCode as E;
    match code {
        E::Malformed
        | E::UnknownOperation
        | E::WrongChainId
        | E::MissingSignature
        | E::BadSignature
        | E::Expired
        | E::NonceGap => StatusCode::BAD_REQUEST,
        E::Oversized => StatusCode::PAYLOAD_TOO_LARGE,
        E::ReplayedNonce | E::Duplicate | E::AlreadyExists | E::AccessUsed => StatusCode::CONFLICT,
        E::Purged => StatusCode::GONE,
        E::PayloadUnavailable => StatusCode::BAD_GATEWAY,
        E::MempoolFull | E::AccountQueueFull => StatusCode::TOO_MANY_REQUESTS,
        E::ReadOnly => StatusCode::SERVICE_UNAVAILABLE,
        E::UnknownAccount | E::Unauthorized | E::Forbidden => StatusCode::FORBIDDEN,
        E::Unauthenticated => StatusCode::UNAUTHORIZED,
        E::NotFound => StatusCode::NOT_FOUND,
        E::InvalidArgument
        | E::UnknownToken
        | E::InsufficientBalance
        | E::SupplyExceeded
        | E::Overflow
        | E::Frozen => StatusCode::UNPROCESSABLE_ENTITY,
        E::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status: status_for(code),
            code,
            message: message.into(),
        }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidArgument, message)
    }
    pub fn internal(message: impl std::fmt::Display) -> Self {
        tracing::error!(error = %message, "internal error while serving a request");
        Self::new(ErrorCode::Internal, message.to_string())
    }
}

impl From<TxError> for ApiError {
    fn from(e: TxError) -> Self {
        Self::new(e.code, e.message)
    }
}

impl From<weft_node::ChainError> for ApiError {
    fn from(e: weft_node::ChainError) -> Self {
        Self::internal(e)
    }
}

impl From<weft_storage::StorageError> for ApiError {
    fn from(e: weft_storage::StorageError) -> Self {
        match e {
            weft_storage::StorageError::UnknownVersion { .. } => Self::not_found(e.to_string()),
            other => Self::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            code: self.code.as_str(),
            number: self.code.number(),
            message: &self.message,
        };
        (self.status, Json(body)).into_response()
    }
}
