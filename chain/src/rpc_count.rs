//! Every RPC request a chain client makes, counted: the cost of a pass in
//! requests is a figure operators pay for (RPC providers bill by request).

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::value::RawValue;
use subxt_rpcs::RpcClient;
use subxt_rpcs::client::{RawRpcFuture, RawRpcSubscription, RpcClientT};

static REQUESTS: AtomicU64 = AtomicU64::new(0);

/// Metric: RPC requests and subscriptions made, by network.
pub const RPC_REQUESTS: &str = "stakeflow_chain_rpc_requests_total";

/// RPC requests and subscriptions made by every client of this process so far.
pub fn rpc_requests() -> u64 {
    REQUESTS.load(Ordering::Relaxed)
}

/// An RPC client that counts what goes through it.
pub(crate) struct Counted {
    inner: RpcClient,
    network: String,
}

impl Counted {
    pub(crate) fn new(inner: RpcClient, network: &str) -> Self {
        Self { inner, network: network.to_string() }
    }

    fn count(&self) {
        REQUESTS.fetch_add(1, Ordering::Relaxed);
        metrics::counter!(RPC_REQUESTS, "network" => self.network.clone()).increment(1);
    }
}

impl RpcClientT for Counted {
    fn request_raw<'a>(&'a self, method: &'a str, params: Option<Box<RawValue>>) -> RawRpcFuture<'a, Box<RawValue>> {
        self.count();
        let Some(at) = crate::runtime_version::core_version_call(method, params.as_deref()) else {
            return (*self.inner).request_raw(method, params);
        };
        // The node's cached runtime version instead of executing the runtime (see runtime_version).
        Box::pin(async move {
            let cached = RawValue::from_string(serde_json::Value::Array(at.into_iter().collect()).to_string()).ok();
            if let Ok(version) = (*self.inner).request_raw("state_getRuntimeVersion", cached).await
                && let Some(answer) = crate::runtime_version::core_version_answer(&version)
            {
                return Ok(answer);
            }
            (*self.inner).request_raw(method, params).await
        })
    }

    fn subscribe_raw<'a>(&'a self, sub: &'a str, params: Option<Box<RawValue>>, unsub: &'a str) -> RawRpcFuture<'a, RawRpcSubscription> {
        self.count();
        (*self.inner).subscribe_raw(sub, params, unsub)
    }
}
