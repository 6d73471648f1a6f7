"""Sign-in names that match no user, kept only as a keyed hash (audit/unknown_names.py)."""

from audit.unknown_names import hide_sign_in_name, is_hidden, short_form


def test_one_name_in_any_case_or_spacing_is_one_hash_and_another_name_another():
    hidden = hide_sign_in_name("Bob.Typo")
    fullwidth = "\uff22\uff2f\uff22.typo"  # NFKC folds it to BOB.typo
    assert hidden == hide_sign_in_name("  bob.typo ") == hide_sign_in_name(fullwidth)
    assert hidden != hide_sign_in_name("bob.typo2")
    assert is_hidden(hidden) and hidden.startswith("unknown name #") and "bob" not in hidden


def test_the_hash_is_keyed_by_the_secret_key(settings):
    before = hide_sign_in_name("bob.typo")
    settings.SECRET_KEY = "another-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
    assert hide_sign_in_name("bob.typo") != before


def test_only_the_exact_stored_form_counts_as_hidden_and_is_shortened():
    hidden = hide_sign_in_name("x")
    assert not is_hidden("alice") and not is_hidden(hidden + "0") and not is_hidden(hidden.upper())
    assert short_form(hidden) == hidden[:22] + "…" and short_form("alice") == "alice"
