"""Desired ladder and live orders to an ordered plan of venue actions (pure)."""
