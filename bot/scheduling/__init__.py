"""The scheduled jobs of `capdesk serve`, run by one elected replica at a time."""

from bot.scheduling.scheduler import CapdeskScheduler, Intervals, build_scheduler

__all__ = ["CapdeskScheduler", "Intervals", "build_scheduler"]
