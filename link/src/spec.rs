//! The textual form of a link: `tcp:HOST:PORT`, `pty`, `serial:PATH`, `file:PATH`, `eth:IFACE`.

use core::fmt;
use core::str::FromStr;
use std::path::PathBuf;

use crate::eth::EthSpec;

/// Which medium a link uses and where.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LinkSpec {
    /// A TCP socket. The appliance listens on it, a converter connects to it.
    Tcp { host: String, port: u16 },
    /// A pseudo-terminal pair created by the appliance (appliance role only); a converter then
    /// opens the reported slave path with `serial:`.
    Pty,
    /// A serial device (a board's UART, or a pty slave such as `/dev/pts/5`).
    Serial(PathBuf),
    /// Append-only files `PATH.in` (towards the appliance) and `PATH.out` (from it), for frames
    /// carried on removable media to an air-gapped side.
    File(PathBuf),
    /// Raw Ethernet on a network interface, towards one port of the Ethernet appliance.
    Eth(EthSpec),
}

/// Why a string is not a link.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("{0:?}: expected tcp:HOST:PORT, pty, serial:PATH, file:PATH or eth:IFACE")]
    UnknownKind(String),
    #[error("{0:?}: tcp needs HOST:PORT")]
    TcpAddress(String),
    #[error("{0:?}: the port must be a number in 0..=65535")]
    TcpPort(String),
    #[error("{kind}: the path is empty")]
    EmptyPath { kind: &'static str },
    #[error("{0:?}: eth needs an interface name (1 to 15 characters, no '/' or spaces)")]
    EthInterface(String),
    #[error("{0:?}: eth options are port=u|t, local=MAC, peer=MAC")]
    EthOption(String),
    #[error("{0:?}: a MAC address is six hex pairs, like 02:c0:1d:00:00:01")]
    Mac(String),
}

impl LinkSpec {
    /// `HOST:PORT` of a TCP link, as tokio's resolvers take it.
    pub fn tcp_address(&self) -> Option<String> {
        match self {
            LinkSpec::Tcp { host, port } if host.contains(':') => Some(format!("[{host}]:{port}")),
            LinkSpec::Tcp { host, port } => Some(format!("{host}:{port}")),
            _ => None,
        }
    }

    /// The medium's name, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            LinkSpec::Tcp { .. } => "tcp",
            LinkSpec::Pty => "pty",
            LinkSpec::Serial(_) => "serial",
            LinkSpec::File(_) => "file",
            LinkSpec::Eth(_) => "eth",
        }
    }
}

impl FromStr for LinkSpec {
    type Err = SpecError;

    fn from_str(s: &str) -> Result<LinkSpec, SpecError> {
        if s == "pty" {
            return Ok(LinkSpec::Pty);
        }
        let (kind, rest) = s
            .split_once(':')
            .ok_or_else(|| SpecError::UnknownKind(s.to_string()))?;
        match kind {
            "tcp" => {
                let (host, port) = rest
                    .rsplit_once(':')
                    .ok_or_else(|| SpecError::TcpAddress(s.to_string()))?;
                // IPv6 literals come bracketed so that the port separator stays unambiguous.
                let host = host
                    .strip_prefix('[')
                    .and_then(|h| h.strip_suffix(']'))
                    .unwrap_or(host);
                if host.is_empty() {
                    return Err(SpecError::TcpAddress(s.to_string()));
                }
                let port = port
                    .parse::<u16>()
                    .map_err(|_| SpecError::TcpPort(s.to_string()))?;
                Ok(LinkSpec::Tcp {
                    host: host.to_string(),
                    port,
                })
            }
            "serial" | "file" if rest.is_empty() => Err(SpecError::EmptyPath {
                kind: if kind == "serial" { "serial" } else { "file" },
            }),
            "serial" => Ok(LinkSpec::Serial(PathBuf::from(rest))),
            "file" => Ok(LinkSpec::File(PathBuf::from(rest))),
            "eth" => Ok(LinkSpec::Eth(EthSpec::parse(rest)?)),
            _ => Err(SpecError::UnknownKind(s.to_string())),
        }
    }
}

impl fmt::Display for LinkSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkSpec::Tcp { .. } => {
                write!(f, "tcp:{}", self.tcp_address().unwrap_or_default())
            }
            LinkSpec::Pty => f.write_str("pty"),
            LinkSpec::Serial(p) => write!(f, "serial:{}", p.display()),
            LinkSpec::File(p) => write!(f, "file:{}", p.display()),
            LinkSpec::Eth(e) => e.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind() {
        assert_eq!(
            "tcp:127.0.0.1:7101".parse(),
            Ok(LinkSpec::Tcp {
                host: "127.0.0.1".into(),
                port: 7101
            })
        );
        assert_eq!(
            "tcp:[::1]:80".parse(),
            Ok(LinkSpec::Tcp {
                host: "::1".into(),
                port: 80
            })
        );
        assert_eq!("pty".parse(), Ok(LinkSpec::Pty));
        assert_eq!(
            "serial:/dev/pts/5".parse(),
            Ok(LinkSpec::Serial("/dev/pts/5".into()))
        );
        assert_eq!(
            "file:/media/x/frames".parse(),
            Ok(LinkSpec::File("/media/x/frames".into()))
        );
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "tcp:localhost:1",
            "tcp:[::1]:7101",
            "pty",
            "serial:/dev/ttyUSB0",
            "file:a/b",
            "eth:veth0",
            "eth:tapu,port=u,local=02:c0:1d:00:01:01,peer=02:c0:1d:00:00:01",
        ] {
            let spec: LinkSpec = s.parse().expect("valid");
            assert_eq!(spec.to_string(), s);
        }
    }

    #[test]
    fn refuses_malformed_specs() {
        assert!(matches!(
            "udp:1.2.3.4:5".parse::<LinkSpec>(),
            Err(SpecError::UnknownKind(_))
        ));
        assert!(matches!(
            "ptyx".parse::<LinkSpec>(),
            Err(SpecError::UnknownKind(_))
        ));
        assert!(matches!(
            "tcp:7101".parse::<LinkSpec>(),
            Err(SpecError::TcpAddress(_))
        ));
        assert!(matches!(
            "tcp::7101".parse::<LinkSpec>(),
            Err(SpecError::TcpAddress(_))
        ));
        assert!(matches!(
            "tcp:h:70000".parse::<LinkSpec>(),
            Err(SpecError::TcpPort(_))
        ));
        assert_eq!(
            "serial:".parse::<LinkSpec>(),
            Err(SpecError::EmptyPath { kind: "serial" })
        );
        assert_eq!(
            "file:".parse::<LinkSpec>(),
            Err(SpecError::EmptyPath { kind: "file" })
        );
    }
}
