"""projections.statements: monthly statements — grouped usage, allocation, close, replay, exports.

The lead's audit calls `verify_money_equation(app, config)` (projections.statements.money).
"""
