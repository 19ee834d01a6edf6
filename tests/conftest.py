"""Shared test settings."""

from hypothesis import settings

# No time limit per example: Hypothesis' default deadline (200 ms) is a timed assertion, and it failed a
# parser property test on a loaded machine. Speed is measured in bench/, not asserted in tests.
settings.register_profile("samordning", deadline=None)
settings.load_profile("samordning")
