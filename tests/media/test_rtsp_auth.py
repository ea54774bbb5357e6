"""Basic and Digest authentication against RFC 2617/7616 worked examples and camera challenges."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from argus.media.rtsp import (
    Authenticator,
    Challenge,
    MessageParser,
    Response,
    RtspError,
    basic_authorization,
    choose_challenge,
    digest_authorization,
    parse_challenges,
)


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def fields(header: str) -> dict[str, str]:
    assert header.startswith("Digest ")
    pairs = re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|[^,\s]+)', header[len("Digest ") :])
    return {name: value.strip('"') for name, value in pairs}


RFC2617_CHALLENGE = (
    'Digest realm="testrealm@host.com", qop="auth,auth-int", '
    'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
)


def test_rfc2617_worked_example():
    (challenge,) = parse_challenges([RFC2617_CHALLENGE])
    header = digest_authorization(
        challenge, "Mufasa", "Circle Of Life", "GET", "/dir/index.html", nc=1, cnonce="0a4f113b"
    )
    got = fields(header)
    # Computed independently of the code under test, per RFC 2617 §3.2.2.1.
    ha1 = md5("Mufasa:testrealm@host.com:Circle Of Life")
    ha2 = md5("GET:/dir/index.html")
    expected = md5(f"{ha1}:dcd98b7102dd2f0e8b11d0f600bfb0c093:00000001:0a4f113b:auth:{ha2}")
    assert expected == "6629fae49393a05397450978507c4ef1"  # the value printed in §3.5
    assert got["response"] == expected
    assert got["username"] == "Mufasa"
    assert got["realm"] == "testrealm@host.com"
    assert got["uri"] == "/dir/index.html"
    assert (got["qop"], got["nc"], got["cnonce"]) == ("auth", "00000001", "0a4f113b")
    assert got["opaque"] == "5ccc069c403ebaf9f0171e9517f40e41"


def test_rfc7616_sha256_example():
    challenge_text = (
        'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, '
        'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
        'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
    )
    (challenge,) = parse_challenges([challenge_text])
    cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
    got = fields(
        digest_authorization(
            challenge, "Mufasa", "Circle of Life", "GET", "/dir/index.html", cnonce=cnonce
        )
    )
    ha1 = sha256("Mufasa:http-auth@example.org:Circle of Life")
    ha2 = sha256("GET:/dir/index.html")
    nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
    expected = sha256(f"{ha1}:{nonce}:00000001:{cnonce}:auth:{ha2}")
    assert expected == "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
    assert got["response"] == expected
    assert got["algorithm"] == "SHA-256"


def test_digest_without_qop_as_cameras_send_it():
    # Like the 401 a Longse camera sends: realm and nonce only.
    data = (
        b"RTSP/1.0 401 Unauthorized\r\nCSeq: 1 \r\nServer: Rtsp Server\r\n"
        b'WWW-Authenticate: Digest realm="Surveillance Server", nonce="98481030"\r\n\r\n'
    )
    (message,) = MessageParser().feed(data)
    assert isinstance(message, Response) and message.status == 401
    challenges = parse_challenges(message.headers.get_all("WWW-Authenticate"))
    auth = Authenticator(challenges, "admin", "secret")
    uri = "rtsp://10.0.0.1/stream"
    got = fields(auth.authorization("DESCRIBE", uri))
    ha1 = md5("admin:Surveillance Server:secret")
    ha2 = md5(f"DESCRIBE:{uri}")
    assert got["response"] == md5(f"{ha1}:98481030:{ha2}")
    assert "qop" not in got and "nc" not in got and "cnonce" not in got


def test_authenticator_counts_nonce_uses():
    (challenge,) = parse_challenges([RFC2617_CHALLENGE])
    auth = Authenticator([challenge], "u", "p")
    first = fields(auth.authorization("OPTIONS", "rtsp://h/"))
    second = fields(auth.authorization("DESCRIBE", "rtsp://h/"))
    assert (first["nc"], second["nc"]) == ("00000001", "00000002")
    assert first["cnonce"] != second["cnonce"]


def test_digest_is_chosen_over_basic_across_repeated_headers():
    challenges = parse_challenges(['Basic realm="cam"', 'Digest realm="cam", nonce="abc"'])
    assert [c.scheme for c in challenges] == ["Basic", "Digest"]
    assert choose_challenge(challenges).is_digest
    auth = Authenticator(challenges, "admin", "pw")
    assert auth.authorization("PLAY", "rtsp://h/").startswith("Digest ")


def test_sha256_is_preferred_over_md5():
    challenges = parse_challenges(
        [
            'Digest realm="r", nonce="n1", algorithm=MD5, Digest realm="r", nonce="n2", '
            'algorithm=SHA-256, Basic realm="r"'
        ]
    )
    assert [c.params.get("nonce") for c in challenges] == ["n1", "n2", None]
    assert choose_challenge(challenges).params["nonce"] == "n2"


def test_basic():
    expected = "Basic " + base64.b64encode(b"Aladdin:open sesame").decode()
    assert basic_authorization("Aladdin", "open sesame") == expected
    auth = Authenticator(parse_challenges(['Basic realm="WallyWorld"']), "Aladdin", "open sesame")
    assert auth.authorization("DESCRIBE", "rtsp://h/") == expected
    with pytest.raises(RtspError, match="must not contain ':'"):
        basic_authorization("a:b", "c")


def test_md5_sess():
    (challenge,) = parse_challenges(['Digest realm="r", nonce="n", algorithm=MD5-sess, qop=auth'])
    got = fields(digest_authorization(challenge, "u", "p", "PLAY", "/x", cnonce="c"))
    ha1 = md5(f"{md5('u:r:p')}:n:c")
    assert got["response"] == md5(f"{ha1}:n:00000001:c:auth:{md5('PLAY:/x')}")


def test_quoted_values_with_escapes_and_commas():
    (challenge,) = parse_challenges([r'Digest realm="a, \"b\"", nonce="x,y"'])
    assert challenge.realm == 'a, "b"'
    assert challenge.params["nonce"] == "x,y"
    header = digest_authorization(challenge, 'we"ird', "p", "GET", "/")
    assert r'username="we\"ird"' in header
    assert r'realm="a, \"b\""' in header


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ([], "no challenge at all"),
        (['Digest realm="r", nonce="n", algorithm=SHA-512'], "SHA-512"),
        (['Digest realm="r", nonce="n", qop="auth-int"'], "no authentication we support"),
        (['Digest realm="r"'], "no authentication we support"),
        (["Negotiate abc=="], "Negotiate"),
    ],
)
def test_unsupported_challenges_fail_clearly(values: list[str], words: str):
    with pytest.raises(RtspError, match=words):
        choose_challenge(parse_challenges(values))


def test_malformed_challenges():
    with pytest.raises(RtspError, match="unterminated quoted string"):
        parse_challenges(['Digest realm="r'])
    with pytest.raises(RtspError, match="parameter before a scheme"):
        parse_challenges(["realm=x"])
    with pytest.raises(RtspError, match="not a Digest challenge"):
        digest_authorization(Challenge("Basic", {}), "u", "p", "GET", "/")


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(max_size=120), max_size=3))
def test_random_challenges_raise_only_rtsp_error(values: list[str]):
    try:
        auth = Authenticator(parse_challenges(values), "user", "pass")
        auth.authorization("DESCRIBE", "rtsp://h/")
    except RtspError:
        pass
