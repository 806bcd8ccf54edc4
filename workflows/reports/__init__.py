"""The reports finance and auditors ask for: the quarterly review, chargeback, access review.

The store computes their figures with set-based SQL (`workflows.reports.records` says what it
hands back); the modules here shape them into tables with stable columns, and the review into
the messages posted each quarter.
"""
