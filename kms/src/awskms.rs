//! AWS KMS as a key provider.
//!
//! Data keys come from `GenerateDataKey` (`AES_256`), are opened with `Decrypt` and moved with
//! `ReEncrypt`, which keeps the plaintext inside KMS. The encryption context is KMS's own
//! `EncryptionContext`, the same name/value pairs, so KMS binds it, logs it in CloudTrail and
//! can condition key policies on it (`kms:EncryptionContext:bucket`, say).
//!
//! A KMS ciphertext names its key material itself, and rotation is invisible to callers: the
//! stored [`WrappedKey::version`] is always 0. `Decrypt` and `ReEncrypt` are still told the
//! key id, so a ciphertext from some other key is refused rather than opened with whatever key
//! the caller's credentials reach.
//!
//! The SDK's own retries are off and this provider's [`RetryPolicy`] applies instead, so every
//! provider retries the same failures the same way. The plaintext data key arrives in an SDK
//! buffer that is not zeroed; it is copied into a [`DataKey`] at once.

use std::collections::HashMap;
use std::future::Future;

use async_trait::async_trait;
use aws_sdk_kms::config::http::HttpResponse;
use aws_sdk_kms::config::retry::RetryConfig;
use aws_sdk_kms::config::timeout::TimeoutConfig;
use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_kms::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use aws_sdk_kms::Client;

use crate::admin::{MasterKeyAdmin, ShredOutcome};
use crate::{
    DataKey, EncryptionContext, GeneratedKey, KeyError, KeyProvider, RetryPolicy, SecretString,
    WrappedKey,
};

/// The version recorded for every KMS-wrapped key; see the module documentation.
const KMS_VERSION: u32 = 0;

/// The shortest waiting period KMS allows before it deletes a key, in days.
const MIN_DELETION_WINDOW_DAYS: i32 = 7;

/// Where the provider's AWS credentials come from.
#[derive(Clone, Debug, Default)]
pub enum AwsCredentials {
    /// The SDK's default chain: environment, profile, web identity, container or instance role.
    #[default]
    DefaultChain,
    /// Fixed keys, read by the caller from a file or the environment.
    Static {
        access_key_id: String,
        secret_access_key: SecretString,
        session_token: Option<SecretString>,
    },
}

/// Everything the AWS KMS provider needs.
#[derive(Clone, Debug, Default)]
pub struct AwsKmsConfig {
    /// The region, such as `eu-west-1`; when unset, the SDK's default chain decides.
    pub region: Option<String>,
    /// Another endpoint than the region's public one: a VPC endpoint, or a test server.
    pub endpoint_url: Option<String>,
    pub credentials: AwsCredentials,
    /// Retries, and the time allowed for each attempt.
    pub retry: RetryPolicy,
}

/// The AWS KMS key provider.
pub struct AwsKmsProvider {
    client: Client,
    retry: RetryPolicy,
}

impl AwsKmsProvider {
    /// Resolves the configuration (the default credential and region chains included) and
    /// builds the client. Nothing is sent to KMS until the first call.
    pub async fn new(config: AwsKmsConfig) -> Result<Self, KeyError> {
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(config.retry.call_timeout)
            .operation_attempt_timeout(config.retry.call_timeout)
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::disabled())
            .timeout_config(timeouts);
        if let Some(region) = &config.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &config.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let AwsCredentials::Static { .. } = &config.credentials {
            loader = loader.credentials_provider(static_credentials(&config.credentials));
        }
        let shared = loader.load().await;
        if shared.region().is_none() {
            return Err(KeyError::Denied(
                "no AWS region: set one in the configuration or AWS_REGION".into(),
            ));
        }
        Ok(Self {
            client: Client::new(&shared),
            retry: config.retry,
        })
    }

    /// Runs one KMS call under the retry policy.
    async fn call<T, E, F, Fut>(&self, what: &str, op: F) -> Result<T, KeyError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        self.retry
            .run(what, || async { op().await.map_err(|e| classify(what, e)) })
            .await
    }
}

impl std::fmt::Debug for AwsKmsProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let region = self.client.config().region().map(|r| r.to_string());
        f.debug_struct("AwsKmsProvider")
            .field("region", &region)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl KeyProvider for AwsKmsProvider {
    fn name(&self) -> &str {
        "awskms"
    }

    async fn generate_data_key(
        &self,
        key_id: &str,
        context: &EncryptionContext,
    ) -> Result<GeneratedKey, KeyError> {
        let out = self
            .call("GenerateDataKey", || {
                self.client
                    .generate_data_key()
                    .key_id(key_id)
                    .key_spec(DataKeySpec::Aes256)
                    .set_encryption_context(Some(context_map(context)))
                    .send()
            })
            .await?;
        Ok(GeneratedKey {
            plaintext: data_key(out.plaintext)?,
            wrapped: wrapped(key_id, out.ciphertext_blob)?,
        })
    }

    async fn unwrap_key(
        &self,
        wrapped: &WrappedKey,
        context: &EncryptionContext,
    ) -> Result<DataKey, KeyError> {
        let out = self
            .call("Decrypt", || {
                self.client
                    .decrypt()
                    .key_id(&wrapped.key_id)
                    .ciphertext_blob(Blob::new(wrapped.ciphertext.clone()))
                    .set_encryption_context(Some(context_map(context)))
                    .send()
            })
            .await?;
        data_key(out.plaintext)
    }

    async fn rewrap_key(
        &self,
        old: &WrappedKey,
        context: &EncryptionContext,
        new_context: &EncryptionContext,
    ) -> Result<WrappedKey, KeyError> {
        let out = self
            .call("ReEncrypt", || {
                self.client
                    .re_encrypt()
                    .source_key_id(&old.key_id)
                    .destination_key_id(&old.key_id)
                    .ciphertext_blob(Blob::new(old.ciphertext.clone()))
                    .set_source_encryption_context(Some(context_map(context)))
                    .set_destination_encryption_context(Some(context_map(new_context)))
                    .send()
            })
            .await?;
        wrapped(&old.key_id, out.ciphertext_blob)
    }
}

/// KMS rotates key material on its own schedule, or on demand; the key id stays the same and
/// old material keeps decrypting. KMS deletes a key only after a waiting period, during which
/// the key is disabled (nothing wrapped under it opens) and the deletion can still be
/// cancelled: a shred here is scheduled with the shortest period, and says so.
#[async_trait]
impl MasterKeyAdmin for AwsKmsProvider {
    async fn rotate_master(&self, key_id: &str) -> Result<Option<u32>, KeyError> {
        self.call("RotateKeyOnDemand", || {
            self.client.rotate_key_on_demand().key_id(key_id).send()
        })
        .await?;
        Ok(None)
    }

    async fn shred_master(&self, key_id: &str) -> Result<ShredOutcome, KeyError> {
        let out = self
            .call("ScheduleKeyDeletion", || {
                self.client
                    .schedule_key_deletion()
                    .key_id(key_id)
                    .pending_window_in_days(MIN_DELETION_WINDOW_DAYS)
                    .send()
            })
            .await?;
        let when = out
            .deletion_date()
            .map_or_else(|| "in 7 days".to_owned(), |d| format!("at {d}"));
        Ok(ShredOutcome {
            versions: None,
            immediate: false,
            note: format!(
                "KMS key {key_id} is disabled now and scheduled for deletion {when} (the \
                 shortest window KMS allows); until then CancelKeyDeletion can undo it"
            ),
        })
    }
}

fn static_credentials(credentials: &AwsCredentials) -> Credentials {
    let AwsCredentials::Static {
        access_key_id,
        secret_access_key,
        session_token,
    } = credentials
    else {
        unreachable!("called only for static credentials");
    };
    Credentials::new(
        access_key_id,
        secret_access_key.expose(),
        session_token.as_ref().map(|t| t.expose().to_owned()),
        None,
        "cloak-config",
    )
}

fn context_map(context: &EncryptionContext) -> HashMap<String, String> {
    context
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn data_key(plaintext: Option<Blob>) -> Result<DataKey, KeyError> {
    let raw = zeroize::Zeroizing::new(
        plaintext
            .ok_or_else(|| KeyError::Corrupt("KMS answered without a plaintext key".into()))?
            .into_inner(),
    );
    DataKey::from_slice(&raw)
        .ok_or_else(|| KeyError::Corrupt("KMS returned a data key of the wrong size".into()))
}

fn wrapped(key_id: &str, ciphertext: Option<Blob>) -> Result<WrappedKey, KeyError> {
    let ciphertext = ciphertext
        .ok_or_else(|| KeyError::Corrupt("KMS answered without a ciphertext".into()))?
        .into_inner();
    Ok(WrappedKey {
        key_id: key_id.to_owned(),
        version: KMS_VERSION,
        ciphertext,
    })
}

/// Classifies a failed KMS call by its error code, else its HTTP status.
fn classify<E>(what: &str, err: SdkError<E, HttpResponse>) -> KeyError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let SdkError::ServiceError(service) = &err else {
        // Timeouts, refused connections, TLS failures and unreadable answers.
        return KeyError::Unavailable(format!("{what}: {}", DisplayErrorContext(&err)));
    };
    let code = service.err().code().unwrap_or("(no code)");
    let message = service.err().message().unwrap_or("");
    let text = format!("{what}: {code}: {message}");
    match by_code(code) {
        Some(kind) => kind(text),
        None => by_status(service.raw().status().as_u16(), text),
    }
}

/// The KMS error codes whose meaning is clear, and what they mean for Cloak.
fn by_code(code: &str) -> Option<fn(String) -> KeyError> {
    let kind: fn(String) -> KeyError = match code {
        "NotFoundException" => KeyError::NotFound,
        "InvalidCiphertextException" | "IncorrectKeyException" => KeyError::Corrupt,
        "AccessDeniedException"
        | "DisabledException"
        | "KMSInvalidStateException"
        | "InvalidKeyUsageException"
        | "InvalidGrantTokenException"
        | "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "ExpiredTokenException" => KeyError::Denied,
        "KMSInternalException"
        | "DependencyTimeoutException"
        | "KeyUnavailableException"
        | "ThrottlingException"
        | "LimitExceededException"
        | "ServiceUnavailable"
        | "InternalFailure" => KeyError::Unavailable,
        _ => return None,
    };
    Some(kind)
}

/// For codes not listed: a server-side status is transient, anything else final.
fn by_status(status: u16, text: String) -> KeyError {
    match status {
        404 => KeyError::NotFound(text),
        429 | 500..=599 => KeyError::Unavailable(text),
        _ => KeyError::Denied(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_map_to_the_fault_they_describe() {
        let kind = |code| by_code(code).map(|k| k(String::new()));
        assert!(matches!(
            kind("NotFoundException"),
            Some(KeyError::NotFound(_))
        ));
        assert!(matches!(
            kind("InvalidCiphertextException"),
            Some(KeyError::Corrupt(_))
        ));
        assert!(matches!(
            kind("DisabledException"),
            Some(KeyError::Denied(_))
        ));
        assert!(matches!(
            kind("ThrottlingException"),
            Some(KeyError::Unavailable(_))
        ));
        assert!(kind("SomethingNew").is_none());
    }
}
