"""The matching engine (pure, sans-IO), market sources, and the Thalex-protocol server shell."""
