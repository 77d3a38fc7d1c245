"""Preprocessing as it was before it was made faster (commit 5de02b2), kept verbatim as the oracle that
test_preprocess_equivalence.py holds the current code to, bit for bit. Never edit these to make a test pass;
when preprocessing is meant to change, judge the change on bench/realworld.py and move the oracle forward."""
