"""Per-user rate limits by scope (``throttle_scope = "submit"``)."""

from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle


class LiveScopedRateThrottle(ScopedRateThrottle):
    """ScopedRateThrottle reading its rates when a request arrives, not when the module is imported.

    DRF copies DEFAULT_THROTTLE_RATES into a class attribute at import time, so a changed setting
    (an operator's environment is read once, but tests override it) would otherwise be ignored.
    """

    def get_rate(self):
        self.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
        return super().get_rate()
