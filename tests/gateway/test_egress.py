"""The webhook egress policy and channel-header rules as pure functions: every address form,
every category, the allowlist, the gateway's own origin and the header grammar."""

from __future__ import annotations

from ipaddress import IPv4Address, ip_address, ip_network

import pytest

from gateway.outbox import egress, headers
from gateway.outbox.egress import Policy
from gateway.platform.settings import Settings

STRICT = Policy(allow_http=True, allow_internal=False, allowed_networks=(),
                own_origins=frozenset({("gateway.example", 443), ("198.51.100.7", 443)}))


class TestParseLiteral:
    @pytest.mark.parametrize("host,expected", [
        ("127.0.0.1", "127.0.0.1"), ("2130706433", "127.0.0.1"), ("0x7f000001", "127.0.0.1"),
        ("0X7F000001", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"), ("127.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"), ("0", "0.0.0.0"), ("017700000001", "127.0.0.1"),  # noqa: S104
        ("::1", "::1"), ("::ffff:127.0.0.1", "::ffff:7f00:1"), ("fe80::1%eth0", "fe80::1%eth0"),
    ])
    def test_address_forms_read_as_the_resolver_reads_them(self, host: str,
                                                           expected: str) -> None:
        assert egress.parse_literal(host) == ip_address(expected)

    @pytest.mark.parametrize("host", ["localhost", "receiver.example", "1.2.3.4 x",
                                      "127.0.0.1.", "0x", "1.2.3.4.5", "deadbeef"])
    def test_names_and_garbage_are_not_literals(self, host: str) -> None:
        assert egress.parse_literal(host) is None


class TestRefusal:
    @pytest.mark.parametrize("address,category", [
        ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("127.0.0.1", "loopback"),  # noqa: S104
        ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"), ("2002:7f00:1::", "loopback"),
        ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"), ("239.1.2.3", "multicast"), ("ff02::1", "multicast"),
        ("10.0.0.1", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"),
        ("fd00:ec2::254", "private"), ("192.0.2.1", "private"),
        ("240.0.0.1", "reserved"), ("64:ff9b::7f00:1", "reserved"),
        ("100.64.0.1", "non-public"),
    ])
    def test_internal_addresses_are_named(self, address: str, category: str) -> None:
        assert egress.refusal(ip_address(address)) == category

    @pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2001:4860:4860::8888",
                                         "::ffff:93.184.216.34"])
    def test_public_addresses_pass(self, address: str) -> None:
        assert egress.refusal(ip_address(address)) is None


class TestAllowed:
    def test_allowlist_admits_its_network_only(self) -> None:
        policy = Policy(True, False, (ip_network("10.20.0.0/16"), ip_network("fd00::/8")),
                        frozenset())
        assert [egress.allowed(ip_address(a), policy) for a in (
            "10.20.3.4", "10.21.3.4", "::ffff:10.20.3.4", "fd00::1", "127.0.0.1",
            "93.184.216.34")] == [True, False, True, True, False, True]

    def test_development_admits_every_address(self) -> None:
        policy = Policy(True, True, (), frozenset())
        assert egress.allowed(ip_address("127.0.0.1"), policy) is True


class TestParseTarget:
    @pytest.mark.parametrize("endpoint,expected", [
        ("https://Receiver.Example/hook", ("https", "receiver.example", 443,
                                           "receiver.example", "/hook", "")),
        ("http://receiver.example:8080/a%20b?x=1", ("http", "receiver.example", 8080,
                                                    "receiver.example:8080", "/a%20b", "x=1")),
        ("https://[::1]:8443", ("https", "::1", 8443, "[::1]:8443", "/", "")),
        ("https://bücher.example/", ("https", "xn--bcher-kva.example", 443,
                                     "xn--bcher-kva.example", "/", "")),
        ("http://0177.0.0.1:80/", ("http", "0177.0.0.1", 80, "0177.0.0.1", "/", "")),
    ])
    def test_parts(self, endpoint: str, expected: tuple[object, ...]) -> None:
        target = egress.parse_target(endpoint, STRICT)
        assert (target.scheme, target.host, target.port, target.host_header, target.path,
                target.query) == expected

    @pytest.mark.parametrize("endpoint,refusal", [
        ("https://user:pass@receiver.example/", egress.CredentialsInUrl),
        ("https://user@receiver.example/", egress.CredentialsInUrl),
        ("ftp://receiver.example/", egress.UnsupportedUrl),
        ("/hook", egress.UnsupportedUrl),
        ("http:///hook", egress.UnsupportedUrl),
        ("http://receiver.example:99999/", egress.UnsupportedUrl),
        ("http://[::1/", egress.UnsupportedUrl),
        ("http://exa mple/", egress.UnsupportedUrl),
        ("http://a..b/", egress.UnsupportedUrl),
    ])
    def test_refused(self, endpoint: str, refusal: type[egress.EgressRefused]) -> None:
        with pytest.raises(refusal):
            egress.parse_target(endpoint, STRICT)

    def test_https_only_when_http_is_off(self) -> None:
        https_only = Policy(False, False, (), frozenset())
        for endpoint in ("http://receiver.example/", "ftp://receiver.example/", "/hook"):
            with pytest.raises(egress.SchemeRefused):
                egress.parse_target(endpoint, https_only)

    def test_credentials_refused_in_development_too(self) -> None:
        with pytest.raises(egress.CredentialsInUrl):
            egress.parse_target("http://u:p@localhost/", Policy(True, True, (), frozenset()))


class TestCheck:
    def _check(self, endpoint: str, addresses: list[str]) -> egress.Destination:
        return egress.check(egress.parse_target(endpoint, STRICT),
                            [ip_address(a) for a in addresses], STRICT)

    def test_every_address_must_pass_and_the_first_is_used(self) -> None:
        assert self._check("https://r.example/", ["93.184.216.34", "8.8.8.8"]).address == \
            IPv4Address("93.184.216.34")
        assert self._check("https://r.example/", ["::ffff:93.184.216.34"]).address == \
            IPv4Address("93.184.216.34")
        with pytest.raises(egress.AddressRefused):
            self._check("https://r.example/", ["93.184.216.34", "10.0.0.1"])
        with pytest.raises(egress.AddressRefused):
            self._check("https://r.example/", [])

    def test_the_gateway_itself_by_name_or_address(self) -> None:
        for endpoint, addresses in (("https://gateway.example/console", ["93.184.216.34"]),
                                    ("https://other.example/", ["198.51.100.7"]),
                                    ("https://[::ffff:198.51.100.7]/", ["::ffff:198.51.100.7"])):
            with pytest.raises(egress.SelfAddressed):
                self._check(endpoint, addresses)
        assert self._check("https://gateway.example:8443/", ["93.184.216.34"]).target.port == \
            8443

    def test_own_origins_include_resolved_addresses(self,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(egress, "resolve", lambda host, port: [ip_address("198.51.100.7")])
        assert egress.own_origins("https://Gateway.example") == frozenset(
            {("gateway.example", 443), ("198.51.100.7", 443)})


    def test_every_configured_base_url_is_the_gateway_itself(
            self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(egress, "resolve", lambda host, port: [])
        settings = Settings(public_base_url="https://gw.example.nl",
                            public_base_urls=["http://gw.intern.example.nl:8080"])
        assert egress.policy_for(settings).own_origins == frozenset(
            {("gw.example.nl", 443), ("gw.intern.example.nl", 8080)})


@pytest.mark.parametrize("endpoint,expected", [
    ("https://r.example/fhir", "https://r.example/fhir/Task/t-1"),
    ("https://r.example/fhir/", "https://r.example/fhir/Task/t-1"),
    ("https://r.example", "https://r.example/Task/t-1"),
    ("https://r.example:8443/hook?tenant=7", "https://r.example:8443/hook/Task/t-1?tenant=7"),
])
def test_resource_url_is_the_endpoint_as_a_fhir_base(endpoint: str, expected: str) -> None:
    assert egress.resource_url(endpoint, "Task", "t-1") == expected


def test_resource_url_cannot_leave_the_endpoint() -> None:
    """An id is one path segment: whatever it holds, the host and path prefix stay."""
    assert egress.resource_url("https://r.example/fhir", "Task", "../../@evil.example/x") == \
        "https://r.example/fhir/Task/..%2F..%2F%40evil.example%2Fx"


class TestHeaders:
    @pytest.mark.parametrize("line,expected", [
        ("X-A: b", ("X-A", "b")), ("X-A:b", ("X-A", "b")), ("X-A: \t b c \t", ("X-A", "b c")),
        ("X-A:", ("X-A", "")), ("Authorization: Bearer x.y", ("Authorization", "Bearer x.y")),
        ("X-A: a:b", ("X-A", "a:b")),
    ])
    def test_good_lines(self, line: str, expected: tuple[str, str]) -> None:
        assert headers.parse_line(line) == expected

    @pytest.mark.parametrize("name,value", [
        ("X-B", "café"), ("X-B", "a\r\nb"), ("X-B", "a\nb"), ("X-B", "a\rb"), ("X-B", "a\x7fb"),
        ("X-B", "a\x00b"), ("X B", "1"), ("X-B ", "1"), ("", "1"), ("X(B)", "1"), ("Xé", "1"),
        ("X-B", "a" * 2047), ("Host", "x"), ("CONTENT-LENGTH", "1"), ("Webhook-Signature", "x"),
        ("Connection", "close"), ("TE", "trailers"), ("Proxy-Authorization", "x"),
    ])
    def test_bad_pairs(self, name: str, value: str) -> None:
        with pytest.raises(headers.InvalidHeader):
            headers.check_header(name, value)

    def test_stored_headers_are_counted(self) -> None:
        headers.check_stored({f"X-{n}": "1" for n in range(20)})
        with pytest.raises(headers.InvalidHeader):
            headers.check_stored({f"X-{n}": "1" for n in range(21)})
