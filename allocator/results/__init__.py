"""Results: the verified answer of a single-period solve (``Result``: targets, coverage per account, costs, plan,
sensitivities, diagnostics) with its DataFrame views and JSON round trip."""
