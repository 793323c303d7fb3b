"""Plain Python helpers (no Odoo import): statistics of customer value."""
