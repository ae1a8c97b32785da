"""The byte-budgeted LRU behind the store's listing caches."""

import sys

import pytest

from wubloader.store.cache import ByteBudgetLRU, names_bytes


def test_evicts_least_recently_used_until_the_budget_holds():
    cache: ByteBudgetLRU[str, str] = ByteBudgetLRU(100)
    cache.put("a", "A", 40)
    cache.put("b", "B", 40)
    assert cache.get("a") == "A"  # now b is the oldest
    cache.put("c", "C", 40)
    assert "b" not in cache and cache.get("a") == "A" and cache.get("c") == "C"
    assert cache.bytes == 80 and len(cache) == 2


def test_replacing_a_key_counts_its_new_size_only():
    cache: ByteBudgetLRU[str, int] = ByteBudgetLRU(100)
    cache.put("a", 1, 60)
    cache.put("a", 2, 30)
    assert cache.bytes == 30 and cache.get("a") == 2
    assert cache.pop("a") == 2 and cache.bytes == 0 and cache.pop("a") is None


def test_a_value_bigger_than_the_budget_is_not_kept_and_evicts_nothing():
    cache: ByteBudgetLRU[str, int] = ByteBudgetLRU(100)
    cache.put("small", 1, 10)
    cache.put("huge", 2, 101)
    assert "huge" not in cache and cache.get("small") == 1 and cache.bytes == 10


def test_negative_budget_refused():
    with pytest.raises(ValueError):
        ByteBudgetLRU(-1)


def test_names_bytes_counts_the_strings():
    names = frozenset(f"{i:06d}-2.0-full-{'A' * 43}.ts" for i in range(100))
    assert names_bytes(names) == sys.getsizeof(names) + sum(sys.getsizeof(n) for n in names)
    assert names_bytes(names) > 100 * 60


@pytest.mark.parametrize("odd", ["é", "\U0001f600", "\udcff", ""])
def test_names_bytes_is_exact_for_names_that_are_not_ascii(odd: str):
    names = [f"00:{i:02d}.0-2.0-full-{odd}{'A' * 10}.ts" for i in range(50)] + [odd]
    assert names_bytes(names) == sys.getsizeof(names) + sum(sys.getsizeof(n) for n in names)
