"""DEMO DATA ONLY: the plan of the demo store "Tienda Andina SpA": who buys what and when over
the two years before the install day. Pure Python (no database), deterministic for a day and a
seed; `store.py` and crm_loyalty's `demo/cards.py` turn it into documents.
"""

import random
from collections import namedtuple
from datetime import timedelta

from dateutil.relativedelta import relativedelta

# Products: xml id suffix -> (name, list price, cost, category), in CLP.
DEMO_PRODUCTS = {
    "zapatillas": ("Zapatillas Trekking Andes", 59990, 32000, "Calzado"),
    "chaqueta": ("Chaqueta Impermeable", 89990, 48000, "Vestuario"),
    "polera": ("Polera de Algodón", 12990, 5500, "Vestuario"),
    "jeans": ("Jeans Clásico", 29990, 14000, "Vestuario"),
    "parka": ("Parka de Pluma", 149990, 82000, "Vestuario"),
    "mochila": ("Mochila 30 L", 34990, 17000, "Camping"),
    "gorro": ("Gorro de Lana", 9990, 3500, "Accesorios"),
    "saco": ("Saco de Dormir", 69990, 38000, "Camping"),
}
# How often each product is picked in a generated basket.
PRODUCT_WEIGHTS = {
    "polera": 30,
    "jeans": 20,
    "gorro": 15,
    "zapatillas": 12,
    "mochila": 10,
    "chaqueta": 8,
    "saco": 3,
    "parka": 2,
}
SEED = 20240601
# Days of the 30-day payment term; pay habits in days after the invoice (on_time) or after the
# due date (slightly_late, late). Payments that would fall after today are not made yet.
TERM_DAYS = 30

# A planned customer. key: xml id suffix of res_partner_andina_<key>_demo for the named ones,
# "c<number>" for the generated ones; orders: [(date, {product: quantity})], oldest first;
# returns: indexes of the orders of which one unit of the first product is given back.
Customer = namedtuple(
    "Customer", "key name city archetype holder habit orders returns", defaults=((),)
)


def _every(start, end, days):
    """Dates from `start` to `end` (both included) every `days` days."""
    dates = []
    day = start
    while day <= end:
        dates.append(day)
        day += timedelta(days=days)
    return dates


def _words(text):
    """The words of `text` (lists of names kept short)."""
    return text.split()


def _named(today):
    """The named customers of the demo (records in demo/crm_demo_store_demo.xml), each with the
    story that puts them in their segment today."""
    ago = lambda *days: [today - timedelta(days=d) for d in days]  # noqa: E731
    every = lambda first, last, step: _every(  # noqa: E731
        today - timedelta(days=first), today - timedelta(days=last), step
    )
    rows = [
        # Premium (over 1,000,000 invoiced in 12 months). The club buys its team's gear every
        # quarter and pays a few days late; Ignacio and Martina hold the store card.
        (
            "cordillera_paula",
            "loyal",
            False,
            "slightly_late",
            every(700, 20, 85),
            {"polera": 20, "zapatillas": 10},
        ),
        ("ignacio", "loyal", True, "on_time", every(690, 5, 35), {"chaqueta": 1, "polera": 1}),
        ("martina", "loyal", True, "on_time", every(680, 10, 60), {"parka": 1, "zapatillas": 1}),
        # Late payer: pays about a month and a half late
        ("rodrigo", "declining", False, "late", every(560, 80, 60), {"jeans": 1, "polera": 1}),
        # Frequent: at least one purchase a month, the last one recent
        ("catalina", "growing", True, "on_time", every(190, 3, 20), {"polera": 1, "gorro": 1}),
        ("benjamin", "growing", True, "on_time", every(155, 5, 25), {"jeans": 1, "polera": 2}),
        ("francisca", "new", False, "on_time", every(75, 5, 14), {"mochila": 1}),
        # At risk: bought before, nothing in the last four months
        ("sebastian", "declining", False, "on_time", ago(480, 400, 300, 200), {"chaqueta": 1}),
        ("fernanda", "one_time", False, "on_time", ago(150), {"saco": 1, "mochila": 1}),
        ("tomas", "declining", False, "on_time", ago(520, 380, 250), {"zapatillas": 1, "gorro": 1}),
        # Regular: occasional buyers
        ("javiera", "regular", False, "on_time", ago(400, 140, 15), {"jeans": 1}),
        ("diego", "regular", False, "on_time", ago(110, 70), {"polera": 3}),
        ("antonia", "regular", False, "on_time", ago(200, 95), {"chaqueta": 1}),
        ("joaquin", "regular", False, "on_time", ago(320, 180, 50), {"gorro": 2, "polera": 1}),
        ("valeria", "regular", False, "on_time", ago(110, 35), {"zapatillas": 1}),
        # A uniform supplier's debt: half of a big order paid, the rest long overdue.
        ("don_lucho_luis", "one_time", False, "partial", ago(150), {"polera": 60}),
    ]
    returns = {"benjamin": (2,)}  # gave back a polera of his third order before paying
    return [
        Customer(
            key,
            None,
            None,
            archetype,
            holder,
            habit,
            [(day, dict(basket)) for day in sorted(days)],
            returns.get(key, ()),
        )
        for key, archetype, holder, habit, days, basket in rows
    ]


FIRST_NAMES = _words(
    "Agustín Alejandra Alonso Amanda Bastián Belén Camilo Carla Claudio Constanza Cristian "
    "Daniela Emilia Esteban Felipe Florencia Gabriel Gabriela Gonzalo Isidora José Josefa "
    "Juan Karina Lucas Luciana Macarena Manuel María Matías Maximiliano Nicolás Paulina "
    "Pedro Renata Ricardo Sofía Tamara Vicente Ximena"
)
LAST_NAMES = _words(
    "Acevedo Aguilera Alarcón Bravo Cáceres Campos Carrasco Castro Contreras Cortés Díaz "
    "Espinoza Figueroa Flores Fuentealba Gallardo Garrido Gutiérrez Henríquez Jara Lagos "
    "Leiva López Muñoz Navarro Olivares Orellana Pizarro Quiroz Riquelme Rojas Saavedra "
    "Salazar Sandoval Tapia Toro Valenzuela Vega Vergara Zúñiga"
)
CITIES = (
    "Santiago",
    "Providencia",
    "Las Condes",
    "Ñuñoa",
    "Maipú",
    "La Florida",
    "Puente Alto",
    "Viña del Mar",
    "Valparaíso",
    "Concepción",
    "Temuco",
    "La Serena",
    "Antofagasta",
    "Rancagua",
    "Talca",
    "Puerto Montt",
)
# Generated customers per archetype: (count, share holding the store card).
ARCHETYPES = {
    "loyal": (9, 0.6),  # buys every one to three months for the whole two years
    "growing": (12, 0.5),  # started rarely, buys more and more often
    "declining": (10, 0.5),  # bought often, less and less, last purchase months ago
    "churned": (26, 0.3),  # a few purchases, then nothing for 6 to 18 months
    "one_time": (110, 0.1),  # a single purchase
    "new": (20, 0.3),  # first purchase in the last three months
}


def _basket(rng, size=1.0):
    """A random basket {product: quantity}; `size` scales how much is bought."""
    keys = list(PRODUCT_WEIGHTS)
    weights = list(PRODUCT_WEIGHTS.values())
    count = max(1, min(3, round(rng.uniform(0.6, 1.6) * size)))
    basket = {}
    for key in rng.choices(keys, weights, k=count):
        basket[key] = basket.get(key, 0) + 1
    return basket


def _generated_dates(rng, archetype, today):
    """Order dates of a generated customer of `archetype`, oldest first."""
    day = lambda ago: today - timedelta(days=int(ago))  # noqa: E731
    if archetype == "one_time":
        return [day(rng.uniform(1, 725))]
    if archetype == "new":
        first = rng.uniform(5, 88)
        dates = [day(first)]
        if rng.random() < 0.4:
            dates.append(day(rng.uniform(0, first - 3)))
        return dates
    if archetype == "loyal":
        ago, gaps = rng.uniform(560, 725), (50, 110)
    elif archetype == "growing":
        ago, gaps = rng.uniform(330, 600), (150, 30)
    elif archetype == "declining":
        ago, gaps = rng.uniform(620, 725), (45, 180)
    else:  # churned: a few purchases, the last one 6 to 18 months ago
        ago, gaps = None, (30, 75)
    stop = {"churned": rng.uniform(185, 545), "declining": rng.uniform(95, 230)}.get(archetype, 0)
    if ago is None:
        ago = min(stop + rng.uniform(40, 300), 725)
    dates = []
    while ago > stop and len(dates) < (rng.randint(2, 5) if archetype == "churned" else 30):
        dates.append(day(ago))
        # the gap moves from the first to the second value over the customer's life
        progress = min(len(dates) / 8, 1.0)
        mean = gaps[0] + (gaps[1] - gaps[0]) * progress
        ago -= rng.uniform(0.7, 1.3) * mean
    return dates


def story(today, seed=SEED):
    """Plan of the store's customers relative to `today`: [Customer], named ones first.

    Deterministic for a given day and seed. Generated customers get a Chilean name, a city, a
    payment habit (mostly on time, some a little or very late), baskets that grow or shrink with
    their archetype, and now and then a product given back.
    """
    rng = random.Random(seed)
    customers = _named(today)
    names = set()
    number = 0
    for archetype, (count, holder_share) in ARCHETYPES.items():
        for _index in range(count):
            number += 1
            name = None
            while not name or name in names:
                name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            names.add(name)
            dates = _generated_dates(rng, archetype, today)
            size = {"growing": (0.6, 1.6), "declining": (1.5, 0.7)}.get(archetype, (1.0, 1.0))
            orders = [
                (date, _basket(rng, size[0] + (size[1] - size[0]) * i / max(len(dates) - 1, 1)))
                for i, date in enumerate(dates)
            ]
            habit = rng.choices(("on_time", "slightly_late", "late"), (85, 10, 5))[0]
            returns = tuple(i for i in range(len(orders)) if rng.random() < 0.02)
            customers.append(
                Customer(
                    f"c{number:03d}",
                    name,
                    rng.choice(CITIES),
                    archetype,
                    rng.random() < holder_share,
                    habit,
                    orders,
                    returns,
                )
            )
    return customers


def pay_date(rng, habit, invoice_date):
    """The day a customer of `habit` pays an invoice of `invoice_date` (30-day term)."""
    due = invoice_date + timedelta(days=TERM_DAYS)
    if habit == "on_time":
        return invoice_date + timedelta(days=rng.choice((0, 0, 0, 3, 7, 12, 20)))
    if habit == "slightly_late":
        return due + timedelta(days=rng.randint(3, 9))
    if habit == "late":
        return due + timedelta(days=rng.randint(35, 55))
    return invoice_date + timedelta(days=20)  # partial


def month_ends(today, months):
    """The last day of each of the `months` months before today's, oldest first."""
    first = today.replace(day=1)
    return [first - relativedelta(months=n) - timedelta(days=1) for n in range(months - 1, -1, -1)]
