from . import test_payment_promotion
