//! converter-out: the wallet-facing side of the coldgate gateway.
//!
//! It reads the frames the verifier passed (the appliance's trusted side), calls the wallet's
//! JSON-RPC with each request frame's JSON form as `params` (methods and codes in
//! [`coldgate_converter_in::rpc`]), checks that the wallet's result is an answer frame for the
//! same client id and counter, and writes that frame back to the appliance, whose response
//! lane checks it on its way to the client.
//!
//! Requests are handled one at a time, in arrival order, so the wallet sees each client's
//! counters in the order the client sent them. A request the wallet does not answer in time,
//! or answers with something that is not a frame, gets no answer frame: converter-out cannot
//! tag one, and the client's call times out. NOTICEs from the response lane (the verifier
//! dropped one of our answers) and anything else it cannot map are logged.

#![forbid(unsafe_code)]

use std::time::Duration;

use coldgate_converter_in::rpc::{self, CallError, Endpoint, Method};
use coldgate_link::{FrameEvent, FrameLink};
use coldgate_spec::codec::{Body, Frame, Wire};
use coldgate_spec::json::{from_json, to_json};

/// Why a request got no answer frame.
#[derive(Debug, thiserror::Error)]
pub enum Unanswered {
    #[error("a {0} frame is not a request")]
    NotARequest(coldgate_spec::MsgType),
    #[error("wallet call failed: {0}")]
    Call(#[from] CallError),
    #[error("wallet result is not a frame: {0}")]
    NotAFrame(String),
    #[error("wallet answered {got} to a {method} call")]
    WrongType {
        method: &'static str,
        got: coldgate_spec::MsgType,
    },
    #[error(
        "wallet answer is for client {got_client} counter {got_counter}, not {client} {counter}"
    )]
    WrongCall {
        client: u32,
        counter: u64,
        got_client: u32,
        got_counter: u64,
    },
    #[error("answer frame does not encode: {0}")]
    Encode(String),
}

/// The wallet's answer frame for one verified request frame.
pub async fn answer(
    request: &Frame,
    wallet: &Endpoint,
    id: u64,
    timeout: Duration,
) -> Result<Wire, Unanswered> {
    let t = request.body.msg_type();
    let method = Method::for_type(t).ok_or(Unanswered::NotARequest(t))?;
    tracing::info!(
        client_id = request.client_id,
        counter = request.counter,
        method = method.name(),
        hop = "converter-out -> wallet",
        "calling the wallet"
    );
    let result = rpc::call(wallet, method.name(), to_json(request), id, timeout).await?;
    let frame = from_json(&result).map_err(|e| Unanswered::NotAFrame(e.to_string()))?;
    let got = frame.body.msg_type();
    if !method.answers().contains(&got) {
        return Err(Unanswered::WrongType {
            method: method.name(),
            got,
        });
    }
    if (frame.client_id, frame.counter) != (request.client_id, request.counter) {
        return Err(Unanswered::WrongCall {
            client: request.client_id,
            counter: request.counter,
            got_client: frame.client_id,
            got_counter: frame.counter,
        });
    }
    frame
        .to_wire()
        .map_err(|e| Unanswered::Encode(e.to_string()))
}

/// Serves the trusted link until it stops.
pub async fn run(mut link: FrameLink, wallet: Endpoint, timeout: Duration) {
    let writer = link.writer();
    let mut id = 0u64;
    while let Some(ev) = link.recv().await {
        let wire = match ev {
            FrameEvent::Frame(w) => w,
            FrameEvent::Invalid(e) => {
                tracing::warn!(error = %e, "invalid bytes from the appliance skipped");
                continue;
            }
            FrameEvent::Up { peer } => {
                tracing::info!(%peer, "connected to the appliance");
                continue;
            }
            FrameEvent::Down { reason } => {
                tracing::warn!(%reason, "lost the appliance; reconnecting");
                continue;
            }
        };
        let frame = match Frame::decode(&wire[..]) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(error = %e, "undecodable frame from the appliance");
                continue;
            }
        };
        if let Body::Notice(n) = frame.body {
            tracing::warn!(
                client_id = frame.client_id,
                counter = frame.counter,
                reason = %n.reason,
                field = n.field,
                lane = %n.lane,
                readable = n.readable,
                "the verifier dropped one of the wallet's answers"
            );
            continue;
        }
        tracing::info!(
            client_id = frame.client_id,
            counter = frame.counter,
            r#type = %frame.body.msg_type(),
            hop = "verifier -> converter-out",
            "verified request frame received"
        );
        id = id.wrapping_add(1);
        match answer(&frame, &wallet, id, timeout).await {
            Ok(answer) => {
                let t = coldgate_spec::MsgType::from_u8(
                    answer[coldgate_spec::field::header::MSG_TYPE.start],
                )
                .map(|t| t.name())
                .unwrap_or("-");
                match writer.write_frame(&answer).await {
                    Ok(()) => tracing::info!(
                        client_id = frame.client_id,
                        counter = frame.counter,
                        r#type = t,
                        hop = "converter-out -> verifier",
                        "answer frame sent"
                    ),
                    Err(e) => tracing::error!(
                        client_id = frame.client_id,
                        counter = frame.counter,
                        error = %e,
                        "answer lost: the link is down"
                    ),
                }
            }
            Err(e) => tracing::error!(
                client_id = frame.client_id,
                counter = frame.counter,
                error = %e,
                "no answer frame for this request"
            ),
        }
    }
    tracing::error!("the appliance link stopped");
}
