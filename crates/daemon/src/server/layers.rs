//! The tower services every request passes on its way to a handler,
//! written by hand rather than with `axum::middleware::from_fn`: a from-fn
//! layer boxes its future and the `Next` it hands on, and moves the
//! request through both, on every request. Each service here decides
//! synchronously and hands the request straight on, so a request pays
//! one future per layer and no allocation for it (docs/performance.md,
//! "Where a request's time goes"). What each one checks is in
//! [`super::guard`], unchanged.
//!
//! - [`Door`]: around the whole router — header size, `Host`, declared
//!   body size, then JSON bodies for errors the framework produced.
//! - [`Track`]: on every route — the request's duration under its route
//!   pattern, and its server span when tracing is on.
//! - [`Guard`]: on every route of an endpoint group — authentication and
//!   rate limiting for the group's [`Access`].

use std::convert::Infallible;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready as ready_poll};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::response::Response;
use futures_util::future::Either;
use tower::layer::layer_fn;
use tower::{Layer, Service};

use super::guard::{self, Access};
use super::{AppState, trace};

/// A response built off the hot path (an error's JSON body, a traced
/// request): boxed, since it is rare or already costly.
type Boxed = Pin<Box<dyn Future<Output = Response> + Send>>;

/// The layer of [`Door`].
pub fn door<S>(state: Arc<AppState>) -> impl Layer<S, Service = Door<S>> + Clone {
    layer_fn(move |inner| Door {
        inner,
        state: state.clone(),
    })
}

/// Refuses a request whose line and headers are too large (431), that
/// names a host not allowed (421) or declares a body over the limit (413),
/// in that order, before anything reads it; gives an error response the
/// framework produced (405, 408, 413, a rejected path) the JSON error
/// body the handlers use.
#[derive(Clone)]
pub struct Door<S> {
    inner: S,
    state: Arc<AppState>,
}

impl<S> Service<Request> for Door<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = DoorFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let refused = guard::headers_too_large(&request)
            .or_else(|| guard::unknown_host(&self.state.security, &request))
            .or_else(|| guard::oversized(self.state.limits.max_body_bytes, &request));
        match refused {
            Some(response) => DoorFuture::Refused {
                response: Some(response),
            },
            None => DoorFuture::Inner {
                future: self.inner.call(request),
            },
        }
    }
}

pin_project_lite::pin_project! {
    /// The answer of a [`Door`].
    #[project = DoorProjection]
    pub enum DoorFuture<F> {
        /// Turned away at the door.
        Refused { response: Option<Response> },
        /// Answered by the router.
        Inner { #[pin] future: F },
        /// The router's answer, given a JSON error body.
        Rewriting { future: Boxed },
    }
}

impl<F> Future for DoorFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let response = match self.as_mut().project() {
                DoorProjection::Refused { response } => {
                    return Poll::Ready(Ok(response.take().expect("polled after completion")));
                }
                DoorProjection::Rewriting { future } => {
                    return future.as_mut().poll(cx).map(Ok);
                }
                DoorProjection::Inner { future } => ready_poll!(future.poll(cx))?,
            };
            if !guard::needs_json_body(&response) {
                return Poll::Ready(Ok(response));
            }
            self.set(DoorFuture::Rewriting {
                future: Box::pin(guard::json_error(response)),
            });
        }
    }
}

/// The layer of [`Track`].
pub fn track<S>(state: Arc<AppState>) -> impl Layer<S, Service = Track<S>> + Clone {
    layer_fn(move |inner| Track {
        inner,
        state: state.clone(),
    })
}

/// Records each request's duration under its route pattern, and runs it
/// in its server span when tracing is on ([`trace::span_for`]).
#[derive(Clone)]
pub struct Track<S> {
    inner: S,
    state: Arc<AppState>,
}

impl<S> Service<Request> for Track<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = TrackFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let start = Instant::now();
        let route = request.extensions().get::<MatchedPath>().cloned();
        let future = match trace::span_for(&request) {
            None => Either::Left(self.inner.call(request)),
            Some(cx) => {
                let answer = self.inner.call(request);
                let answer = async move { answer.await.unwrap_or_else(|e| match e {}) };
                Either::Right(Box::pin(trace::in_span(answer, cx)) as Boxed)
            }
        };
        TrackFuture {
            future,
            start,
            route,
            state: self.state.clone(),
        }
    }
}

pin_project_lite::pin_project! {
    /// The answer of a [`Track`], measured when it is ready.
    pub struct TrackFuture<F> {
        #[pin]
        future: Either<F, Boxed>,
        start: Instant,
        route: Option<MatchedPath>,
        state: Arc<AppState>,
    }
}

impl<F> Future for TrackFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = match this.future.as_pin_mut() {
            Either::Left(f) => ready_poll!(f.poll(cx))?,
            Either::Right(f) => ready_poll!(f.poll(cx)),
        };
        if let Some(route) = this.route {
            this.state
                .metrics
                .observe(route.as_str(), this.start.elapsed().as_secs_f64());
        }
        Poll::Ready(Ok(response))
    }
}

/// The layer of [`Guard`], for an endpoint group that callers use for
/// `access`.
pub fn guard<S>(state: Arc<AppState>, access: Access) -> impl Layer<S, Service = Guard<S>> + Clone {
    layer_fn(move |inner| Guard {
        inner,
        state: state.clone(),
        access,
    })
}

/// Lets a request on unless [`guard::refusal`] refuses it: it must be
/// authenticated for the group's access and within the caller's rate.
#[derive(Clone)]
pub struct Guard<S> {
    inner: S,
    state: Arc<AppState>,
    access: Access,
}

impl<S> Service<Request> for Guard<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response, Infallible>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        match guard::refusal(&self.state, self.access, &mut request) {
            None => Either::Right(self.inner.call(request)),
            Some(refused) => Either::Left(ready(Ok(refused))),
        }
    }
}
