//! tower middleware that needs turnstile's timers (the `tower` feature): a request
//! timeout, [`TimeoutLayer`], shaped like tower-http's, which needs tokio's timers and
//! panics outside a tokio runtime.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response, StatusCode};
use tower_layer::Layer;
use tower_service::Service;

use crate::time::Sleep;

/// Applies [`Timeout`] to a service: a request whose response has not come within the
/// duration is answered `408 Request Timeout` (an empty body, the body type's
/// `Default`), and the inner service's future is dropped. As tower-http's
/// `TimeoutLayer`, its error type is the inner service's, so axum's `Router::layer`
/// (whose routes never fail) takes it, and the timer is turnstile's own
/// ([`crate::time::sleep`]): no tokio runtime is needed.
///
/// ```
/// use std::time::Duration;
///
/// use tower::{Service, ServiceExt};
/// use turnstile::tower::TimeoutLayer;
///
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     let slow = tower::service_fn(|_req: http::Request<()>| async {
///         turnstile::time::sleep(Duration::from_secs(10)).await;
///         Ok::<_, std::convert::Infallible>(http::Response::new(String::from("late")))
///     });
///     let mut service = tower::ServiceBuilder::new()
///         .layer(TimeoutLayer::new(Duration::from_millis(10)))
///         .service(slow);
///     let response = service.ready().await?.call(http::Request::new(())).await?;
///     assert_eq!(response.status(), http::StatusCode::REQUEST_TIMEOUT);
///     Ok::<(), std::convert::Infallible>(())
/// }).unwrap();
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct TimeoutLayer {
    timeout: Duration,
    status: StatusCode,
}

impl TimeoutLayer {
    /// A layer whose requests time out after `timeout`.
    ///
    /// ```
    /// let _layer = turnstile::tower::TimeoutLayer::new(std::time::Duration::from_secs(5));
    /// ```
    pub fn new(timeout: Duration) -> Self {
        TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout)
    }

    /// A layer whose requests time out after `timeout`, answered with `status` (as
    /// tower-http's `TimeoutLayer::with_status_code`; `new` answers 408).
    ///
    /// ```
    /// use std::time::Duration;
    /// let _layer = turnstile::tower::TimeoutLayer::with_status_code(
    ///     http::StatusCode::SERVICE_UNAVAILABLE,
    ///     Duration::from_secs(5),
    /// );
    /// ```
    pub fn with_status_code(status: StatusCode, timeout: Duration) -> Self {
        TimeoutLayer { timeout, status }
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Timeout<S> {
        Timeout {
            inner,
            timeout: self.timeout,
            status: self.status,
        }
    }
}

/// The service [`TimeoutLayer`] makes: `inner`, with each request's response given
/// `timeout` to come, else a `408 Request Timeout` (or the layer's status code).
#[derive(Clone, Copy, Debug)]
pub struct Timeout<S> {
    inner: S,
    timeout: Duration,
    status: StatusCode,
}

impl<S> Timeout<S> {
    /// `inner` with a request timeout.
    ///
    /// ```
    /// let service = tower::service_fn(|_req: http::Request<()>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    /// });
    /// let _timeout = turnstile::tower::Timeout::new(service, std::time::Duration::from_secs(5));
    /// ```
    pub fn new(inner: S, timeout: Duration) -> Self {
        TimeoutLayer::new(timeout).layer(inner)
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Timeout<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Default,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        ResponseFuture {
            inner: self.inner.call(req),
            timeout: self.timeout,
            status: self.status,
            sleep: None,
        }
    }
}

pin_project_lite::pin_project! {
    /// The response of a [`Timeout`] service: the inner one's, or a 408 once the
    /// timeout is over. The timer starts at its first poll, on the runtime that polls it.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        timeout: Duration,
        status: StatusCode,
        #[pin]
        sleep: Option<Sleep>,
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Default,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(out) = this.inner.poll(cx) {
            return Poll::Ready(out);
        }
        if this.sleep.is_none() {
            this.sleep.set(Some(crate::time::sleep(*this.timeout)));
        }
        let sleep = this.sleep.as_pin_mut().expect("set above");
        if sleep.poll(cx).is_pending() {
            return Poll::Pending;
        }
        let mut response = Response::new(B::default());
        *response.status_mut() = *this.status;
        Poll::Ready(Ok(response))
    }
}
