from . import cards
