//! converter-out's keep-alive connections to the wallet, counted where they arrive: a real
//! wallet (this process, a real store file, its real HTTP front) behind a TCP relay that
//! counts the connections it accepts. And the one rule that matters more than speed: a
//! request that may have reached the wallet is never sent a second time.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use coldgate_converter_in::rpc::{CallError, Endpoint};
use coldgate_converter_out::{answer_pooled, PoolConfig, WalletPool};
use coldgate_spec::codec::{Body, Frame};
use coldgate_spec::vectors::SECRET;
use coldgate_wallet::{KdfParams, Policy, Store, Wallet};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const PATIENCE: Duration = Duration::from_secs(20);
const CALL: Duration = Duration::from_secs(10);
const PASSPHRASE: &[u8] = b"pool test passphrase";
const CLIENT: u32 = 7;
/// Cheap argon2: the store's passphrase is not what is tested here.
const FAST_KDF: KdfParams = KdfParams {
    memory_kib: 64,
    iterations: 1,
    parallelism: 1,
};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("coldgate-pool-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn now() -> i64 {
    coldgate_wallet::server::now()
}

fn policy() -> Policy {
    let mut p = Policy::new(1_000_000, 500_000, 10_000, 3_000_000, 5, 5_000_000, 8, 100);
    p.validate().expect("policy");
    p
}

/// The wallet's HTTP front on its own runtime and thread: stopping it drops every
/// connection it holds, as a restarted process would.
struct RealWallet {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    addr: SocketAddr,
}

impl RealWallet {
    /// Serves the store at `db` on `addr` (port 0: any), closing connections idle for
    /// `idle` (the wallet's request timeout).
    fn start(db: &Path, addr: SocketAddr, idle: Duration) -> RealWallet {
        let store = Store::open(db, PASSPHRASE).expect("open store");
        let wallet = Wallet::new(store, policy());
        let listener = std::net::TcpListener::bind(addr).expect("bind wallet");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("wallet address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("wallet runtime");
            rt.block_on(async move {
                let listener = TcpListener::from_std(listener).expect("tokio listener");
                let limits = coldgate_wallet::server::Limits {
                    max_body_bytes: 16_384,
                    max_connections: 16,
                    request_timeout: idle,
                };
                let serve = coldgate_wallet::server::serve(
                    listener,
                    wallet,
                    limits,
                    Arc::new(coldgate_wallet::metrics::Metrics::default()),
                );
                tokio::select! {
                    _ = serve => {}
                    _ = stopped => {}
                }
            });
            // Dropping the runtime here ends every connection task: their sockets close.
            rt.shutdown_timeout(Duration::from_secs(5));
        });
        RealWallet {
            stop: Some(stop),
            thread: Some(thread),
            addr,
        }
    }

    fn stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            t.join().expect("wallet thread");
        }
    }
}

impl Drop for RealWallet {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A new store at `db` with client [`CLIENT`] (the vectors' secret) registered.
fn new_store(db: &Path) {
    let mut store = Store::init(db, PASSPHRASE, &FAST_KDF, now()).expect("init store");
    let t = store.begin().expect("begin");
    t.add_client(CLIENT, &SECRET, now()).expect("add client");
    t.commit().expect("commit");
}

/// Counts connections accepted (and still open) on the wallet's side, relaying each to it.
#[derive(Default)]
struct Counts {
    accepted: AtomicUsize,
    open: AtomicUsize,
}

async fn relay(to: SocketAddr) -> (SocketAddr, Arc<Counts>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind relay");
    let addr = listener.local_addr().expect("relay address");
    let counts = Arc::new(Counts::default());
    let c = Arc::clone(&counts);
    tokio::spawn(async move {
        while let Ok((mut down, _)) = listener.accept().await {
            c.accepted.fetch_add(1, Ordering::SeqCst);
            c.open.fetch_add(1, Ordering::SeqCst);
            let c = Arc::clone(&c);
            tokio::spawn(async move {
                if let Ok(mut up) = TcpStream::connect(to).await {
                    let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                }
                c.open.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    (addr, counts)
}

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn endpoint(addr: SocketAddr) -> Endpoint {
    format!("http://{addr}").parse().expect("endpoint")
}

/// One `getnewkey` through the pool; the answer must be the wallet's key, tagged.
async fn new_key(pool: &WalletPool, counter: u64) {
    let request = Frame::sealed(CLIENT, counter, Body::NewKey, &SECRET).expect("request");
    let wire = answer_pooled(&request, pool, counter, CALL)
        .await
        .unwrap_or_else(|e| panic!("call {counter}: {e}"));
    let answer = Frame::decode(&wire[..]).expect("answer decodes");
    assert!(answer.verify(&SECRET), "call {counter}: the answer's tag");
    assert!(
        matches!(answer.body, Body::Pubkey { .. }),
        "call {counter}: {:?}",
        answer.body
    );
}

#[tokio::test]
async fn sequential_calls_share_one_connection_and_a_restarted_wallet_gets_a_new_one() {
    let dir = scratch("restart");
    let db = dir.join("wallet.db");
    new_store(&db);
    let mut wallet = RealWallet::start(&db, "127.0.0.1:0".parse().unwrap(), CALL);
    let (at, counts) = relay(wallet.addr).await;
    // Idle connections kept long enough that nothing here depends on timing.
    let pool = WalletPool::new(
        endpoint(at),
        PoolConfig {
            max_idle: 4,
            idle: Duration::from_secs(60),
        },
    );
    for counter in 1..=5 {
        new_key(&pool, counter).await;
    }
    assert_eq!(
        counts.accepted.load(Ordering::SeqCst),
        1,
        "five calls, one connection"
    );
    assert_eq!(pool.connections_opened(), 1);

    // The wallet restarts on the same port and store: its connections are gone.
    let addr = wallet.addr;
    wallet.stop();
    let _wallet = RealWallet::start(&db, addr, CALL);
    until("the relay to see the old connection closed", || {
        counts.open.load(Ordering::SeqCst) == 0
    })
    .await;
    until("the pool to notice", || pool.idle_connections() == 0).await;
    for counter in 6..=8 {
        new_key(&pool, counter).await;
    }
    assert_eq!(
        counts.accepted.load(Ordering::SeqCst),
        2,
        "one new connection after the restart, reused by the next calls"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_connection_the_wallet_closed_while_idle_is_replaced_without_a_lost_call() {
    let dir = scratch("idle");
    let db = dir.join("wallet.db");
    new_store(&db);
    // The wallet closes connections idle for 1 s (its shortest request timeout); the pool
    // here would keep them for a minute, so it meets one the wallet has closed.
    let _wallet = RealWallet::start(&db, "127.0.0.1:0".parse().unwrap(), Duration::from_secs(1));
    let (at, counts) = relay(_wallet.addr).await;
    let pool = WalletPool::new(
        endpoint(at),
        PoolConfig {
            max_idle: 4,
            idle: Duration::from_secs(60),
        },
    );
    new_key(&pool, 1).await;
    until("the wallet to close the idle connection", || {
        counts.open.load(Ordering::SeqCst) == 0
    })
    .await;
    new_key(&pool, 2).await;
    new_key(&pool, 3).await;
    assert_eq!(counts.accepted.load(Ordering::SeqCst), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A peer that reads whole HTTP requests and answers the first `answered` of them; the next
/// one it reads and then closes the connection without a word (a wallet dying mid-call).
async fn dying_peer(answered: usize) -> (SocketAddr, Arc<Counts>, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let counts = Arc::new(Counts::default());
    let requests = Arc::new(AtomicUsize::new(0));
    let (c, r) = (Arc::clone(&counts), Arc::clone(&requests));
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            c.accepted.fetch_add(1, Ordering::SeqCst);
            let r = Arc::clone(&r);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    let Some(len) = read_request(&mut s, &mut buf).await else {
                        return;
                    };
                    buf.drain(..len);
                    if r.fetch_add(1, Ordering::SeqCst) >= answered {
                        return; // dropped: closed without an answer
                    }
                    let body = br#"{"jsonrpc":"2.0","id":1,"result":null}"#;
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                        body.len()
                    );
                    if s.write_all(head.as_bytes()).await.is_err()
                        || s.write_all(body).await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    (addr, counts, requests)
}

/// Reads until `buf` holds one whole request (head and `content-length` body); its length.
async fn read_request(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<usize> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let body: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + body {
                return Some(end + 4 + body);
            }
        }
        let mut chunk = [0u8; 4096];
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

#[tokio::test]
async fn a_request_that_may_have_reached_the_wallet_is_not_sent_again() {
    // On a fresh connection.
    let (at, counts, requests) = dying_peer(0).await;
    let pool = WalletPool::new(endpoint(at), PoolConfig::default());
    match pool.post(b"{}".to_vec(), CALL).await {
        Err(CallError::Http(e)) => assert!(e.contains("not sent again"), "{e}"),
        other => panic!("expected a failed call, got {other:?}"),
    }
    assert_eq!(requests.load(Ordering::SeqCst), 1);
    assert_eq!(counts.accepted.load(Ordering::SeqCst), 1);

    // On a pooled connection: the first exchange succeeds, the second dies after its request
    // was read. It is not sent again on a new connection.
    let (at, counts, requests) = dying_peer(1).await;
    let pool = WalletPool::new(endpoint(at), PoolConfig::default());
    let (status, _) = pool.post(b"{}".to_vec(), CALL).await.expect("first call");
    assert_eq!(status.as_u16(), 200);
    match pool.post(b"{}".to_vec(), CALL).await {
        Err(CallError::Http(e)) => assert!(e.contains("not sent again"), "{e}"),
        other => panic!("expected a failed call, got {other:?}"),
    }
    assert_eq!(
        requests.load(Ordering::SeqCst),
        2,
        "the second request once"
    );
    assert_eq!(counts.accepted.load(Ordering::SeqCst), 1);
    // The next call opens a new connection (the dead one is never handed out again).
    let _ = pool.post(b"{}".to_vec(), CALL).await;
    assert_eq!(counts.accepted.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_quiet_pool_closes_its_idle_connections() {
    let dir = scratch("reaper");
    let db = dir.join("wallet.db");
    new_store(&db);
    // The wallet would keep an idle connection longer than this test waits for it to close.
    let wallet = RealWallet::start(
        &db,
        "127.0.0.1:0".parse().unwrap(),
        Duration::from_secs(600),
    );
    let (at, counts) = relay(wallet.addr).await;
    let pool = Arc::new(WalletPool::new(
        endpoint(at),
        PoolConfig {
            max_idle: 4,
            idle: Duration::from_millis(100),
        },
    ));
    WalletPool::spawn_reaper(&pool);
    new_key(&pool, 1).await;
    // No further call: the sweep alone closes the connection.
    until("the pool to close its idle connection", || {
        counts.open.load(Ordering::SeqCst) == 0
    })
    .await;
    assert_eq!(pool.idle_connections(), 0);
    assert_eq!(counts.accepted.load(Ordering::SeqCst), 1);
    let _ = std::fs::remove_dir_all(&dir);
}
