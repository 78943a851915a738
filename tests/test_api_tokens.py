import pytest

from bot.web.tokens import TokenFormatError, bearer, identify, parse_tokens


def test_pairs_are_parsed_and_a_token_names_its_caller():
    tokens = parse_tokens(" ops:s3cret-ops , ci:s3cret-ci,")
    assert tokens == {"ops": "s3cret-ops", "ci": "s3cret-ci"}
    assert identify(tokens, "s3cret-ci") == "api:ci"
    assert identify(tokens, "s3cret-ops") == "api:ops"


@pytest.mark.parametrize("presented", [None, "", "s3cret", "s3cret-ops ", "S3CRET-OPS"])
def test_anything_but_an_exact_token_is_nobody(presented):
    assert identify(parse_tokens("ops:s3cret-ops"), presented) is None


@pytest.mark.parametrize("raw", ["ops", "ops:", ":tok-Q7", "a:tok-Q7,a:tok-Z9"])
def test_bad_lists_are_refused_without_echoing_tokens(raw):
    with pytest.raises(TokenFormatError) as err:
        parse_tokens(raw)
    assert "tok-" not in str(err.value)


@pytest.mark.parametrize("header, token", [("Bearer abc", "abc"), ("bearer  abc ", "abc"),
                                           ("Basic abc", None), ("Bearer", None), (None, None)])
def test_bearer_header(header, token):
    assert bearer(header) == token
