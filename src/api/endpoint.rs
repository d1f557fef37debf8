//! Where each product's requests go: `vpc.<region>.aliyuncs.com`, `cbn.aliyuncs.com`,
//! `sts.aliyuncs.com`, `expressconnectrouter.cn-shanghai.aliyuncs.com`, or one
//! `--endpoint URL` for every product (the emulator).

use std::net::IpAddr;

use super::Product;

/// Why an endpoint cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// Not a URL decom can use.
    #[error("invalid endpoint {url:?}: {detail}")]
    Invalid {
        /// What was given.
        url: String,
        /// What is wrong with it.
        detail: String,
    },
    /// Plain HTTP towards a non-loopback host would send signed requests in clear text.
    #[error(
        "refusing plain http:// to {host}: only loopback endpoints (127.0.0.0/8, ::1, localhost) \
         may use http; use https://"
    )]
    InsecureHttp {
        /// The host that was refused.
        host: String,
    },
    /// A product that needs a region got none.
    #[error("{product} requests need a region (set RegionId, --region or the plan's region)")]
    NoRegion {
        /// The product.
        product: Product,
    },
}

/// A scheme and a `host[:port]`: where requests are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    /// `http` or `https`.
    pub scheme: String,
    /// Host, with `:port` when not the scheme's default (this is the signed `host` header).
    pub host: String,
}

impl std::fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}", self.scheme, self.host)
    }
}

/// How endpoints are chosen.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Endpoints {
    /// The public Alibaba Cloud endpoints.
    #[default]
    Cloud,
    /// One endpoint for every product (`--endpoint`), e.g. the emulator.
    Override(BaseUrl),
}

/// Is this host a loopback address or `localhost`?
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    h.parse::<IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

impl Endpoints {
    /// Parse an `--endpoint` value. `http://` is accepted only for loopback hosts; a bare
    /// `host:port` means https.
    pub fn parse_override(url: &str) -> Result<Self, EndpointError> {
        let with_scheme = if url.contains("://") {
            url.to_string()
        } else {
            format!("https://{url}")
        };
        let parsed = reqwest::Url::parse(&with_scheme).map_err(|e| EndpointError::Invalid {
            url: url.to_string(),
            detail: e.to_string(),
        })?;
        let scheme = parsed.scheme().to_string();
        if scheme != "http" && scheme != "https" {
            return Err(EndpointError::Invalid {
                url: url.to_string(),
                detail: format!("scheme {scheme:?} is not http or https"),
            });
        }
        let host = parsed.host_str().ok_or_else(|| EndpointError::Invalid {
            url: url.to_string(),
            detail: "no host".into(),
        })?;
        if parsed.path() != "/" && !parsed.path().is_empty() {
            return Err(EndpointError::Invalid {
                url: url.to_string(),
                detail: "RPC endpoints take no path".into(),
            });
        }
        if scheme == "http" && !is_loopback_host(host) {
            return Err(EndpointError::InsecureHttp {
                host: host.to_string(),
            });
        }
        let host = match parsed.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        Ok(Endpoints::Override(BaseUrl { scheme, host }))
    }

    /// The base URL for one product in one region.
    pub fn resolve(
        &self,
        product: Product,
        region: Option<&str>,
    ) -> Result<BaseUrl, EndpointError> {
        if let Endpoints::Override(base) = self {
            return Ok(base.clone());
        }
        let host = match product {
            Product::Vpc => {
                let region = region
                    .filter(|r| !r.is_empty())
                    .ok_or(EndpointError::NoRegion { product })?;
                format!("vpc.{region}.aliyuncs.com")
            }
            Product::Cbn => "cbn.aliyuncs.com".to_string(),
            Product::Sts => "sts.aliyuncs.com".to_string(),
            // One endpoint for every region (blockers.md §2.2: Terraform's endpoint table and
            // the SDK's rule for this product).
            Product::ExpressConnectRouter => {
                "expressconnectrouter.cn-shanghai.aliyuncs.com".to_string()
            }
        };
        Ok(BaseUrl {
            scheme: "https".into(),
            host,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_endpoints() {
        let e = Endpoints::Cloud;
        assert_eq!(
            e.resolve(Product::Vpc, Some("cn-shanghai"))
                .unwrap()
                .to_string(),
            "https://vpc.cn-shanghai.aliyuncs.com"
        );
        assert_eq!(
            e.resolve(Product::Cbn, Some("cn-shanghai"))
                .unwrap()
                .to_string(),
            "https://cbn.aliyuncs.com"
        );
        assert_eq!(
            e.resolve(Product::Sts, None).unwrap().to_string(),
            "https://sts.aliyuncs.com"
        );
        assert!(matches!(
            e.resolve(Product::Vpc, None),
            Err(EndpointError::NoRegion { .. })
        ));
    }

    #[test]
    fn override_applies_to_every_product() {
        let e = Endpoints::parse_override("http://127.0.0.1:18080").unwrap();
        for p in [Product::Vpc, Product::Cbn, Product::Sts] {
            assert_eq!(e.resolve(p, None).unwrap().host, "127.0.0.1:18080");
        }
        assert!(Endpoints::parse_override("http://localhost:1").is_ok());
        assert!(Endpoints::parse_override("http://[::1]:1").is_ok());
        assert!(Endpoints::parse_override("https://vpc.example.com").is_ok());
    }

    #[test]
    fn plain_http_only_to_loopback() {
        for bad in [
            "http://10.0.0.1:80",
            "http://vpc.aliyuncs.com",
            "http://128.0.0.1",
        ] {
            assert!(
                matches!(
                    Endpoints::parse_override(bad),
                    Err(EndpointError::InsecureHttp { .. })
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            Endpoints::parse_override("ftp://x"),
            Err(EndpointError::Invalid { .. })
        ));
        assert!(matches!(
            Endpoints::parse_override("http://127.0.0.1/x"),
            Err(EndpointError::Invalid { .. })
        ));
    }
}
