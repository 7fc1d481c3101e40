//! [`ApiError`]: the one error shape every endpoint returns, and the mapping from runtime
//! errors to HTTP statuses (which lives here and nowhere else).

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use hookflow_api::{ErrorBody, ErrorDetail, Problem};
use hookflow_runtime::Error;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                error: ErrorDetail {
                    code: code.into(),
                    message: message.into(),
                    details: Vec::new(),
                },
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        let message = error.to_string();
        match error {
            Error::Invalid(diagnostics) => {
                let details: Vec<Problem> = diagnostics
                    .0
                    .iter()
                    .map(|d| Problem {
                        path: d.path.clone(),
                        message: d.message.clone(),
                    })
                    .collect();
                let mut api = Self::new(
                    StatusCode::BAD_REQUEST,
                    "InvalidDefinition",
                    format!(
                        "The workflow is invalid ({} problem(s)): {message}",
                        details.len()
                    ),
                );
                api.body.error.details = details;
                api
            }
            Error::BadRequest(_) => Self::new(StatusCode::BAD_REQUEST, "BadRequest", message),
            Error::NotFound(_) => Self::new(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("{message} was not found"),
            ),
            Error::Unauthorized => Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", message),
            Error::SignatureRejected(_) => {
                Self::new(StatusCode::UNAUTHORIZED, "WebhookSignatureInvalid", message)
            }
            Error::MethodNotAllowed(_) => {
                Self::new(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", message)
            }
            Error::Conflict(_) => Self::new(StatusCode::CONFLICT, "Conflict", message),
            // The service behind a webhook trigger refused: a gateway error, with what it said.
            Error::SubscribeFailed {
                trigger,
                status,
                body,
                ..
            } => {
                let mut api = Self::new(StatusCode::BAD_GATEWAY, "WebhookSubscribeFailed", message);
                api.body.error.details = vec![Problem {
                    path: format!("definition.triggers.{trigger}.inputs.subscribe"),
                    message: match status {
                        Some(status) => format!("the service answered {status}: {body}"),
                        None => "the service could not be reached".to_owned(),
                    },
                }];
                api
            }
            Error::Store(_) | Error::Internal(_) => {
                tracing::error!(%message, "request failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalError",
                    "the engine failed; see its log",
                )
            }
        }
    }
}
