"""The log retention periods CloudWatch Logs offers, shared by every construct that creates log groups."""

from __future__ import annotations

from aws_cdk import aws_logs as logs

RETENTION_PERIODS = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}
LOG_RETENTION_DAYS = tuple(RETENTION_PERIODS)


def check_log_retention_days(value: int) -> int:
    """Accept only a retention period CloudWatch Logs offers (never "forever")."""
    if value not in LOG_RETENTION_DAYS:
        raise ValueError(
            f"must be one of the periods CloudWatch Logs offers: {', '.join(map(str, LOG_RETENTION_DAYS))} (days)"
        )
    return value


def log_retention(days: int) -> logs.RetentionDays:
    """CDK's value for a validated retention period."""
    return RETENTION_PERIODS[check_log_retention_days(days)]
