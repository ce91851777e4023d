"""Online estimators: volatility on a sampling grid, trade-arrival intensity, own-fill intensity."""
