//! A TCP proxy that counts round trips on the wire.
//!
//! A round trip is counted each time the server answers after the client has sent
//! something: the client's request bytes, however many segments, then the server's answer.
//! Messages with no answer (PostgreSQL's Terminate) are not round trips, and neither is the
//! health check sqlx's pool sends when a connection goes back to it (PostgreSQL `Sync`,
//! MySQL `COM_PING`): it runs on a task of its own after the caller is done, so counting it
//! would make a measurement depend on timing, and it is the pool's cost, not migrator's.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A client message that is the pool's health check, alone in its write: PostgreSQL `Sync`
/// (`S`, length 4) or MySQL `COM_PING` (a 1-byte packet with sequence 0, command 0x0e).
fn is_pool_ping(bytes: &[u8]) -> bool {
    bytes == [b'S', 0, 0, 0, 4] || bytes == [1, 0, 0, 0, 0x0e]
}
use tokio::net::{TcpListener, TcpStream};

/// Opens one idle connection of `pool` and waits until the pool has it back (its release
/// runs on a task of its own; at most 10 s), then 50 ms more: a measured call that finds no
/// idle connection would open another, and count its setup.
pub async fn warm<DB: sqlx::Database>(pool: &sqlx::Pool<DB>) {
    drop(pool.acquire().await.unwrap());
    let started = std::time::Instant::now();
    while pool.num_idle() == 0 && started.elapsed() < std::time::Duration::from_secs(10) {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
}

#[derive(Debug, Default)]
struct Counter {
    client_spoke_last: bool,
    round_trips: u64,
    /// When a client sends these bytes, the server's answer to them never reaches it: the
    /// proxy drains it and closes that client's side (a connection lost after the server did
    /// the work). Other connections go on.
    cut_after: Option<Vec<u8>>,
}

/// A running proxy in front of one server.
#[derive(Debug, Clone)]
pub struct Proxy {
    addr: SocketAddr,
    counter: Arc<Mutex<Counter>>,
}

impl Proxy {
    /// Starts a proxy on a loopback port forwarding to `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> Proxy {
        Self::start_with_latency(upstream, std::time::Duration::ZERO).await
    }

    /// Like [`Proxy::start`], delaying the first bytes of each answer by `latency`: every
    /// round trip then costs that much more, as across a network with that round-trip time.
    pub async fn start_with_latency(upstream: &str, latency: std::time::Duration) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let counter = Arc::new(Mutex::new(Counter::default()));
        let upstream = upstream.to_owned();
        let shared = counter.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&upstream).await else { continue };
                // No Nagle on either leg: a message forwarded in two writes would otherwise
                // wait for the peer's delayed ACK (40 ms on Linux) and distort timings.
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                tokio::spawn(pipe(client, server, shared.clone(), latency));
            }
        });
        Proxy { addr, counter }
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Round trips since the last reset.
    pub fn round_trips(&self) -> u64 {
        self.counter.lock().unwrap().round_trips
    }

    /// From now on, when the client sends a message containing `marker`, the server still
    /// gets it and answers, but the answer is thrown away and the client's connection closed:
    /// the client cannot tell what the server did.
    pub fn cut_answers_to(&self, marker: &str) {
        self.counter.lock().unwrap().cut_after = Some(marker.as_bytes().to_vec());
    }

    /// Starts counting from zero.
    pub fn reset(&self) {
        let mut counter = self.counter.lock().unwrap();
        counter.round_trips = 0;
        counter.client_spoke_last = false;
    }
}

async fn pipe(client: TcpStream, server: TcpStream, counter: Arc<Mutex<Counter>>, latency: std::time::Duration) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let up_counter = counter.clone();
    let cutting = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let up_cutting = cutting.clone();
    let up = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if !is_pool_ping(&buf[..n]) {
                let mut c = up_counter.lock().unwrap();
                c.client_spoke_last = true;
                if let Some(marker) = &c.cut_after
                    && buf[..n].windows(marker.len()).any(|w| w == marker.as_slice())
                {
                    up_cutting.store(true, std::sync::atomic::Ordering::SeqCst);
                }
            }
            if server_write.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = server_write.shutdown().await;
    };
    let down = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match server_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let answer_starts = {
                let mut c = counter.lock().unwrap();
                let starts = c.client_spoke_last;
                if starts {
                    c.round_trips += 1;
                    c.client_spoke_last = false;
                }
                starts
            };
            if cutting.load(std::sync::atomic::Ordering::SeqCst) {
                // Drain the server (it must not block writing its answer) and leave the client.
                let _ = client_write.shutdown().await;
                while let Ok(n) = server_read.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
                return;
            }
            if answer_starts && !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            if client_write.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = client_write.shutdown().await;
    };
    tokio::join!(up, down);
}
