from . import test_gift_stock
