"""
Offline training documents: one seeded compositional generator per domain (recipes, poems, how-to
guides, children's stories), with the word lists each draws from. Words of the user's prompt steer the
choices ("vegan", "Japanese", "haiku", "git"), and the same (prompt, domain, seed) always gives the same
documents. A generator knows what it wrote, so its documents obey their domain's rules by construction.
"""
import functools
import random
import re

from common import UserError
from tokenizer import estimate_tokens


# -----------------------------------------------------------------------------
# the words of a prompt, shared by the generators (steering) and data.py (domain detection, relevance)

@functools.lru_cache(maxsize=1 << 16)
def word_forms(word):
    """The word and its likely stems, so plurals and verb forms find their keyword (cached: scoring asks
    for the same words thousands of times)."""
    forms = [word]
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ing", ""), ("ing", "e"), ("ed", ""),
                         ("ed", "e"), ("er", ""), ("ers", ""), ("ers", "e"), ("ery", "e"), ("ic", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            forms.append(word[:-len(suffix)] + repl)
    return tuple(forms)


def prompt_words(prompt):
    return re.findall(r"[a-z][a-z'-]*", prompt.lower())


# -----------------------------------------------------------------------------
# shared helpers of the generators

def _join(items):
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _steer(rng, words, options, keep=0.85):
    """Prefer the options the prompt's words name (most of the time), else any option."""
    named = [o for o in options if o.lower() in words]
    return rng.choice(named) if named and rng.random() < keep else rng.choice(options)


# Ingredients: (name, plural or None for mass nouns, role, unit, diet tags, cuisines or "" for any).
# Diet tags: m=meat, f=fish, d=dairy, e=egg, h=honey; a vegan recipe uses none, a vegetarian one no m/f.
INGREDIENTS = [(*row[:2], *row[2].split("|")) for row in [
    ("chicken thighs", None, "protein|g|m|"), ("chicken breast", None, "protein|g|m|"),
    ("beef mince", None, "protein|g|m|it mx us gr"), ("beef strips", None, "protein|g|m|cn kr th mx"),
    ("pork shoulder", None, "protein|g|m|cn kr mx"), ("pork mince", None, "protein|g|m|cn th jp"),
    ("lamb", None, "protein|g|m|in gr me"), ("prawns", None, "protein|g|f|th cn it es"),
    ("salmon fillets", None, "protein|g|f|jp us fr"), ("cod", None, "protein|g|f|es fr us"),
    ("firm tofu", None, "protein|g||jp cn kr th"), ("tempeh", None, "protein|g||th us"),
    ("chickpeas", None, "protein|g||in me gr es"), ("red lentils", None, "protein|g||in me"),
    ("black beans", None, "protein|g||mx us"), ("cannellini beans", None, "protein|g||it fr"),
    ("paneer", None, "protein|g|d|in"), ("halloumi", None, "protein|g|d|gr me"),
    ("eggs", None, "protein|g|e|jp fr us"), ("edamame", None, "protein|g||jp"),
    ("carrot", "carrots", "veg|count||"), ("red bell pepper", "red bell peppers", "veg|count||"),
    ("zucchini", "zucchini", "veg|count||it gr fr me"), ("broccoli", None, "veg|g||"),
    ("spinach", None, "veg|g||"), ("cabbage", None, "veg|g||kr jp cn"), ("mushrooms", None, "veg|g||"),
    ("cherry tomatoes", None, "veg|g||it gr es me us"), ("eggplant", "eggplants", "veg|count||jp in gr me it"),
    ("sweet potato", "sweet potatoes", "veg|count||us mx in"), ("potato", "potatoes", "veg|count||fr es in us"),
    ("green beans", None, "veg|g||"), ("peas", None, "veg|g||in it fr"), ("sweetcorn", None, "veg|g||mx us"),
    ("cauliflower", None, "veg|g||in me"), ("kale", None, "veg|g||us it"), ("bok choy", None, "veg|g||cn jp"),
    ("snow peas", None, "veg|g||cn th"), ("daikon", None, "veg|g||jp kr"), ("leek", "leeks", "veg|count||fr"),
    ("celery", None, "veg|g||fr it us"), ("butternut squash", None, "veg|g||us me"),
    ("asparagus", None, "veg|g||fr it"), ("fennel", None, "veg|g||it"), ("beansprouts", None, "veg|g||cn th kr"),
    ("onion", "onions", "aromatic|count||"), ("garlic", None, "aromatic|clove||"),
    ("fresh ginger", None, "aromatic|cm||cn jp kr th in"), ("shallot", "shallots", "aromatic|count||fr th"),
    ("spring onion", "spring onions", "aromatic|count||cn jp kr"), ("lemongrass", None, "aromatic|stalk||th"),
    ("rice", None, "base|g||in me mx es us"), ("jasmine rice", None, "base|g||th cn"),
    ("short-grain rice", None, "base|g||jp kr"), ("udon noodles", None, "base|g||jp"),
    ("rice noodles", None, "base|g||th"), ("egg noodles", None, "base|g|e|cn"), ("spaghetti", None, "base|g||it"),
    ("penne", None, "base|g||it"), ("couscous", None, "base|g||me"), ("quinoa", None, "base|g||us"),
    ("soba noodles", None, "base|g||jp"), ("orzo", None, "base|g||gr"), ("tortillas", None, "base|count||mx"),
    ("vegetable stock", None, "liquid|ml||"), ("chicken stock", None, "liquid|ml|m|"),
    ("coconut milk", None, "liquid|ml||th in"), ("chopped tomatoes", None, "liquid|ml||it in mx es me gr"),
    ("kombu dashi", None, "liquid|ml||jp"), ("single cream", None, "liquid|ml|d|fr it"),
    ("soy sauce", None, "season|tbsp||jp cn kr"), ("white miso", None, "season|tbsp||jp"),
    ("mirin", None, "season|tbsp||jp"), ("rice vinegar", None, "season|tbsp||jp cn kr"),
    ("fish sauce", None, "season|tbsp|f|th"), ("oyster sauce", None, "season|tbsp|f|cn"),
    ("red curry paste", None, "season|tbsp||th"), ("garam masala", None, "season|tsp||in"),
    ("ground cumin", None, "season|tsp||in mx me"), ("smoked paprika", None, "season|tsp||es mx us"),
    ("chili flakes", None, "season|tsp||it kr"), ("gochujang", None, "season|tbsp||kr"),
    ("harissa", None, "season|tbsp||me"), ("dried oregano", None, "season|tsp||gr it mx"),
    ("turmeric", None, "season|tsp||in"), ("sesame oil", None, "season|tsp||jp cn kr"),
    ("lemon juice", None, "season|tbsp||gr it me fr"), ("lime juice", None, "season|tbsp||th mx"),
    ("honey", None, "season|tbsp|h|gr us kr"), ("maple syrup", None, "season|tbsp||us"),
    ("dijon mustard", None, "season|tsp||fr"), ("balsamic vinegar", None, "season|tbsp||it"),
    ("tomato paste", None, "season|tbsp||it es me"), ("ground coriander", None, "season|tsp||in me"),
    ("cilantro", None, "herb|handful||th mx in"), ("flat-leaf parsley", None, "herb|handful||it fr gr me es"),
    ("basil", None, "herb|handful||it th"), ("mint", None, "herb|handful||me gr in th"),
    ("sesame seeds", None, "herb|tbsp||jp kr cn"), ("roasted peanuts", None, "herb|tbsp||th cn"),
    ("chives", None, "herb|handful||fr us"), ("dill", None, "herb|handful||gr fr"),
    ("parmesan", None, "herb|g|d|it"), ("feta", None, "herb|g|d|gr"), ("toasted pine nuts", None, "herb|tbsp||it me"),
]]
HOT_INGREDIENTS = [("red chili", "red chilies", "aromatic", "count", "", ""),
                   ("jalapeño", "jalapeños", "aromatic", "count", "", ""),
                   ("cayenne pepper", None, "season", "pinch", "", "")]
CUISINES = {"japanese": "jp", "chinese": "cn", "korean": "kr", "thai": "th", "indian": "in", "italian": "it",
            "mexican": "mx", "french": "fr", "greek": "gr", "spanish": "es", "mediterranean": "gr",
            "lebanese": "me", "moroccan": "me", "american": "us"}
CUISINE_NAMES = {"jp": "Japanese", "cn": "Chinese", "kr": "Korean", "th": "Thai", "in": "Indian", "it": "Italian",
                 "mx": "Mexican", "fr": "French", "gr": "Greek", "es": "Spanish", "me": "Middle Eastern",
                 "us": "American"}
# Dish families: the roles a recipe of this kind needs (role, how many) and the cuisines it suits.
DISHES = {
    "stir-fry": ([("protein", 1), ("veg", 3), ("aromatic", 2), ("season", 3), ("base", 1), ("herb", 1)], "jp cn kr th us"),
    "soup": ([("aromatic", 2), ("veg", 3), ("protein", 1), ("liquid", 1), ("season", 2), ("herb", 1)], "jp cn kr th in it mx fr gr es me us"),
    "curry": ([("aromatic", 3), ("season", 3), ("protein", 1), ("veg", 2), ("liquid", 1), ("base", 1), ("herb", 1)], "th in jp me"),
    "pasta": ([("base", 1), ("aromatic", 2), ("veg", 2), ("protein", 1), ("liquid", 1), ("season", 1), ("herb", 2)], "it gr fr us"),
    "bowl": ([("base", 1), ("veg", 3), ("protein", 1), ("season", 3), ("herb", 2)], "jp kr mx me us gr th"),
    "traybake": ([("protein", 1), ("veg", 3), ("aromatic", 1), ("season", 3), ("herb", 1)], "gr me es us fr it in mx"),
}
DISH_TITLES = {"stir-fry": ["Stir-Fry", "Wok Noodles", "Rice Stir-Fry"], "soup": ["Soup", "Broth", "Noodle Soup"],
               "curry": ["Curry", "Stew", "Simmered Curry"], "pasta": ["Pasta", "Pasta Bake", "One-Pot Pasta"],
               "bowl": ["Bowl", "Salad Bowl", "Grain Salad"], "traybake": ["Traybake", "Sheet-Pan Dinner", "Roast"]}
DISH_WORDS = {"stir": "stir-fry", "wok": "stir-fry", "soup": "soup", "broth": "soup", "ramen": "soup",
              "curry": "curry", "stew": "curry", "pasta": "pasta", "spaghetti": "pasta", "salad": "bowl",
              "bowl": "bowl", "roast": "traybake", "traybake": "traybake", "dinner": "traybake",
              "dessert": "dessert", "cake": "dessert", "baking": "dessert", "bake": "dessert", "sweet": "dessert",
              "cookie": "dessert", "cookies": "dessert", "muffin": "dessert", "muffins": "dessert", "desserts": "dessert"}
TITLE_ADJECTIVES = ["Quick", "Easy", "Weeknight", "Golden", "Cozy", "Zesty", "Smoky", "Herby", "Crispy",
                    "Creamy", "Simple", "Rustic", "Hearty", "Fresh", "Bright", "Sticky", "Garlicky", "Lemony",
                    "Peppery", "Savory", "Comforting", "Speedy", "Sunday", "Budget", "Gingery", "Tangy"]
TITLE_ADJECTIVES += ["Bright", "Cheerful", "Glossy", "Silky", "Punchy", "Light", "Midweek", "Big-Batch",
                     "Lazy", "Saucy", "Sunny", "Warm", "Mellow", "Bold", "Toasty", "Chunky", "Humble", "Tender", "Nutty",
                     "Jammy", "Rich", "Homey", "Vibrant", "Crunchy", "Fragrant", "Autumn", "Summer", "Spring",
                     "Winter", "Family", "Lunchbox", "Pantry", "Fridge-Raid", "Bistro", "Market", "Garden", "Cottage"]
TITLE_ADJECTIVES = list(dict.fromkeys(TITLE_ADJECTIVES))
# The word a seasoning or aromatic gives a title ("Miso-Glazed ...", "Ginger Chicken ...").
FLAVOR_WORDS = {"soy sauce": "Soy", "white miso": "Miso", "mirin": "Mirin", "oyster sauce": "Oyster Sauce", "red curry paste": "Red Curry", "garam masala": "Masala", "ground cumin": "Cumin",
                "smoked paprika": "Paprika", "chili flakes": "Chili", "gochujang": "Gochujang", "harissa": "Harissa",
                "dried oregano": "Oregano", "turmeric": "Turmeric", "sesame oil": "Sesame", "lemon juice": "Lemon",
                "lime juice": "Lime", "honey": "Honey", "maple syrup": "Maple", "dijon mustard": "Mustard",
                "balsamic vinegar": "Balsamic", "tomato paste": "Tomato", "ground coriander": "Coriander",
                "garlic": "Garlic", "fresh ginger": "Ginger", "shallot": "Shallot", "lemongrass": "Lemongrass",
                "spring onion": "Scallion", "red chili": "Chili", "jalapeño": "Jalapeño", "cayenne pepper": "Cayenne"}
SPICY_ADJECTIVES = ["Spicy", "Fiery", "Hot", "Chili", "Red-Hot"]
PEOPLE = ["Grandma's", "Mom's", "Dad's", "Aunt Rosa's", "Uncle Ben's", "Nana's", "Chef Kim's", "Maya's",
          "Leo's", "The Family's", "Sam's", "Yuki's", "Priya's", "Marco's", "Lena's"]
DESCRIPTIONS = ["A {adj} {dish} that comes together on a busy evening.", "Ready in about {total} minutes and full of flavor.",
                "{main_cap} and {veg} make this {dish} filling without being heavy.",
                "This {dish} is a favorite for a {occasion}.", "A {adj} way to use up {veg}.",
                "Good hot, and even better the next day.", "Mild enough for kids, with room to add more spice.",
                "A {cuisine} {dish} built around {main}."]
OCCASIONS = ["weeknight dinner", "lazy Sunday", "packed lunch", "family meal", "dinner party", "cold evening",
             "picnic", "quick lunch", "game night", "rainy day"]
PREP_CUTS = {"veg": ["sliced", "diced", "chopped", "cut into bite-sized pieces", "thinly sliced", "roughly chopped"],
             "aromatic": ["finely chopped", "minced", "thinly sliced"],
             "protein": ["cut into bite-sized pieces", "patted dry", "cut into strips", "cubed"]}
TIPS = ["Swap the {veg} for any vegetable you have on hand.", "Leftovers keep for up to 3 days in the fridge.",
        "Cut everything before you start cooking; the {method} part moves fast.",
        "For more heat, add a pinch of chili flakes at the end.", "Taste before serving and adjust the salt.",
        "Double the {season} if you like a stronger sauce.", "This freezes well for up to a month.",
        "Warm the plates so the {dish} stays hot at the table.", "Use a large pan so the {veg} browns instead of steaming."]


def _qty(rng, unit, role, servings, plural, name):
    scale = servings / 4
    if unit == "g":
        base = {"protein": (300, 600), "base": (200, 400), "herb": (40, 80)}.get(role, (100, 300))
        return f"{int(round(rng.randint(*base) * scale / 50.0) * 50) or 50} g {name}"
    if unit == "ml":
        return f"{int(round(rng.randint(300, 900) * scale / 100.0) * 100) or 100} ml {name}"
    if unit == "count":
        n = max(1, round(rng.randint(1, 3) * scale))
        return f"{n} {plural if n > 1 and plural else name}"
    if unit == "clove":
        return f"{rng.randint(2, 5)} cloves {name}"
    if unit == "cm":
        return f"{rng.choice([2, 3, 4])} cm piece {name}"
    if unit == "stalk":
        return f"{rng.randint(1, 3)} stalks {name}"
    if unit == "handful":
        return f"a {rng.choice(['small ', 'large ', ''])}handful of {name}"
    if unit == "pinch":
        return f"a pinch of {name}"
    amount = rng.choice(["1", "2", "1 1/2", "1/2", "3"]) if unit == "tsp" else rng.choice(["1", "2", "3", "1 1/2"])
    return f"{amount} {unit} {name}"


def _recipe_steps(rng, dish, parts, servings):
    """Numbered steps that use each listed ingredient; returns (steps, cook minutes)."""
    names = lambda role: [p[1] for p in parts if p[0] == role]
    protein, veg, aro = names("protein"), names("veg"), names("aromatic")
    season, liquid, base, herb = names("season"), names("liquid"), names("base"), names("herb")
    steps, cook = [], 0
    if base and dish != "pasta":
        m = rng.choice([10, 12, 15, 20])
        cook += m
        steps.append(rng.choice([f"Cook the {base[0]} according to the packet, about {m} minutes, then drain or keep warm.",
                                 f"Start the {base[0]}: cook it for {m} minutes and set aside."]))
    if dish == "traybake":
        t = rng.choice([200, 210, 220])
        m = rng.choice([25, 30, 35, 40])
        cook += m
        steps.append(f"Heat the oven to {t}°C.")
        steps.append(f"Toss the {_join(protein + veg)} with {_join(aro + season)} and 2 tbsp oil on a large tray.")
        steps.append(rng.choice([f"Roast for {m} minutes, turning once, until the {protein[0]} is cooked through and the edges are golden.",
                                 f"Roast for {m} minutes until everything is tender and browned at the edges."]))
    elif dish == "bowl":
        steps.append(f"Whisk the {_join(season)} with 2 tbsp oil to make a dressing.")
        m = rng.choice([5, 6, 8])
        cook += m
        steps.append(rng.choice([f"Cook the {protein[0]} in a hot pan for {m} minutes until golden.",
                                 f"Sear the {protein[0]} for {m} minutes, turning halfway."]))
        steps.append(f"Pile the {base[0]} into bowls and top with the {_join(veg)} and the {protein[0]}.")
    else:
        vessel = {"stir-fry": "wok", "soup": "large pot", "curry": "heavy pan", "pasta": "deep frying pan"}[dish]
        m = rng.choice([2, 3, 4, 5])
        cook += m
        steps.append(rng.choice([f"Heat 1 tbsp oil in a {vessel} and fry the {_join(aro)} for {m} minutes until fragrant.",
                                 f"Warm a little oil in a {vessel} over medium heat and soften the {_join(aro)}, about {m} minutes."]))
        m = rng.choice([4, 5, 6, 8])
        cook += m
        steps.append(rng.choice([f"Add the {protein[0]} and cook for {m} minutes, stirring, until lightly browned.",
                                 f"Add the {protein[0]} and brown well for {m} minutes."]))
        if dish == "curry":
            steps.append(f"Stir in the {_join(season)} and cook for 1 minute.")
        m = rng.choice([3, 4, 5])
        cook += m
        steps.append(f"Add the {_join(veg)} and cook for {m} minutes.")
        if dish == "pasta":
            m = rng.choice([9, 10, 11, 12])
            cook += m
            steps.insert(0, f"Boil the {base[0]} in salted water for {m} minutes, then drain, keeping a cup of the water.")
        if liquid:
            m = {"soup": rng.choice([15, 20, 25]), "curry": rng.choice([15, 20, 25, 30])}.get(dish, rng.choice([5, 8]))
            cook += m
            steps.append(rng.choice([f"Pour in the {liquid[0]}, bring to a simmer and cook for {m} minutes.",
                                     f"Add the {liquid[0]} and simmer gently for {m} minutes."]))
        if dish == "stir-fry":
            steps.append(f"Add the {_join(season)} and toss for 1 minute until everything is glossy.")
        elif dish != "curry":
            steps.append(f"Season with the {_join(season)}, then taste and adjust.")
        if dish == "pasta":
            steps.append(f"Toss in the {base[0]}, adding a splash of the cooking water to loosen the sauce.")
    serve = rng.choice(["Serve", "Serve at once", "Spoon onto plates and serve", "Divide between plates and serve"])
    if base and dish in ("stir-fry", "curry", "soup"):
        steps.append(f"{serve} with the {base[0]}, topped with the {_join(herb)}.")
    else:
        steps.append(f"{serve}, scattered with the {_join(herb)}.")
    return steps, cook


DESSERTS = ["Muffins", "Banana Bread", "Crumble", "Sheet Cake", "Cookies", "Loaf Cake", "Pancakes", "Brownies"]
DESSERT_FLAVORS = ["blueberries", "chopped apples", "raspberries", "dark chocolate chips", "chopped walnuts",
                   "sliced bananas", "chopped pecans", "dried cranberries", "chopped pears", "lemon zest"]
DESSERT_SPICES = ["ground cinnamon", "vanilla extract", "cocoa powder", "ground ginger", "nutmeg", "cardamom"]


def _dessert(rng, words, vegan, servings):
    dish = _steer(rng, words, DESSERTS)
    add = rng.sample(DESSERT_FLAVORS, 2)
    spice = rng.choice(DESSERT_SPICES)
    fat = "coconut oil" if vegan else rng.choice(["butter", "melted butter"])
    milk = rng.choice(["oat milk", "almond milk", "soy milk"]) if vegan else "milk"
    binder = "ground flaxseed mixed with 3 tbsp water" if vegan else rng.choice(["eggs", "large eggs"])
    sugar = rng.choice(["caster sugar", "brown sugar", "light brown sugar"])
    ingredients = [f"{rng.choice([200, 225, 250, 300])} g plain flour", f"{rng.choice([100, 120, 150])} g {sugar}",
                   f"2 tsp baking powder", f"{rng.choice([80, 100, 120])} g {fat}", f"{rng.choice([150, 200, 250])} ml {milk}",
                   (f"1 tbsp {binder}" if vegan else f"2 {binder}"), f"1 tsp {spice}",
                   f"{rng.choice([100, 150, 200])} g {add[0]}", f"{rng.choice([50, 75, 100])} g {add[1]}"]
    t, m = rng.choice([170, 180, 190]), rng.choice([20, 25, 30, 35, 45])
    steps = [f"Heat the oven to {t}°C and line a tin with baking paper.",
             f"Whisk the plain flour, {sugar}, baking powder and {spice} in a large bowl.",
             f"In another bowl beat the {fat}, {milk} and {binder.split(' mixed')[0]} until smooth.",
             rng.choice(["Pour the wet mix into the dry and stir until just combined; a few lumps are fine.",
                         "Fold the wet ingredients into the dry ones with a spatula, without overmixing."]),
             f"Fold in the {add[0]} and {add[1]}.",
             f"Bake for {m} minutes, until a skewer comes out clean.",
             rng.choice(["Cool for 10 minutes before slicing.", "Let it cool in the tin, then serve."])]
    if dish == "Pancakes":
        steps[0] = "Heat a non-stick pan over medium heat."
        steps[5] = f"Cook ladlefuls of batter for {rng.choice([2, 3])} minutes on each side until golden."
        m = 15
    adj = _steer(rng, words, ["Easy", "Fluffy", "Golden", "Cozy", "Simple", "Sunday", "Vegan" if vegan else "Classic", "Spiced"])
    flavor = add[0].replace("chopped ", "").replace("sliced ", "").replace("dark ", "").title()
    title = rng.choice([f"{adj} {flavor} {dish}", f"{flavor} and {spice.split()[-1].title()} {dish}",
                        f"{rng.choice(PEOPLE)} {flavor} {dish}"])
    return title, ingredients, steps, 15, m


def _pick_ingredients(rng, dish, roles, cuisine, banned, spicy, prompt_words_set):
    """[(role, ingredient row)] for each role of the dish, or [] when a role has nothing to choose from."""
    pool = [i for i in INGREDIENTS + (HOT_INGREDIENTS if spicy else [])
            if not (set(i[4]) & banned) and (not cuisine or not i[5] or cuisine in i[5].split())]
    used, parts = set(), []
    for role, n in roles:
        options = [i for i in pool if i[2] == role and i[0] not in used]
        if spicy and role in ("aromatic", "season"):
            options = [i for i in options if i in HOT_INGREDIENTS] * 3 + options
        wanted = [i for i in options if i[0].split()[-1] in prompt_words_set or i[0] in prompt_words_set]
        if role == "protein" and wanted:
            options = wanted
        if dish == "pasta" and role == "base":
            options = [i for i in options if i[0] in ("spaghetti", "penne", "orzo")]
        if dish in ("stir-fry", "curry") and role == "liquid":
            options = [i for i in options if i[0] != "single cream"]
        if not options:
            return []
        for ing in rng.sample(options, min(n, len(options))):
            if ing[0] not in used:
                used.add(ing[0])
                parts.append((role, ing))
    return parts

def _recipe_title(rng, dish, parts, main, veg, cuisine, spicy):
    """A title from one of several shapes; the first words vary (adjective, cook, flavour, main) so that
    thousands of recipes do not open alike, and every word names something the recipe has."""
    adj = rng.choice(SPICY_ADJECTIVES) if spicy and rng.random() < 0.7 else rng.choice(TITLE_ADJECTIVES)
    kind = rng.choice(DISH_TITLES[dish])
    cname = CUISINE_NAMES.get(cuisine, "")
    flavors = [FLAVOR_WORDS[ing[0]] for _, _, ing in parts if ing[0] in FLAVOR_WORDS]
    flavor = rng.choice(flavors) if flavors else adj
    cook = rng.choice(["Glazed", "Roasted", "Spiced", "Braised", "Seared", "Baked", "Charred", "Crusted", "Marinated"]
                      if dish == "traybake" else ["Glazed", "Spiced", "Seared", "Charred", "Infused", "Scented"])
    person = rng.choice(PEOPLE + [n + "'s" for n in GIRL_NAMES + BOY_NAMES])
    main_t, veg_t = main.title(), veg.title()
    style = f"{cname}-Style" if cname else "Home-Style"
    shapes = [f"{adj} {main_t} {kind}", f"{adj} {main_t} and {veg_t} {kind}", f"{main_t} {kind} with {veg_t}",
              f"{person} {main_t} {kind}", f"{person} {adj} {kind}", f"{person} {flavor} {main_t} {kind}",
              f"{flavor} {main_t} {kind}", f"{adj} {flavor} {main_t} {kind}", f"{adj} {style} {main_t} {kind}",
              f"{flavor}-{cook} {main_t} {kind}" if dish != "soup" else f"{flavor} and {veg_t} {kind}",
              f"{adj} {veg_t}, {main_t} and {flavor} {kind}"]
    return rng.choice(shapes)


def _recipe(rng, words, prompt_words_set):
    vegan = bool(prompt_words_set & {"vegan", "plant-based", "plant"})
    vegetarian = vegan or bool(prompt_words_set & {"vegetarian", "veggie", "meatless"})
    dairy_free = vegan or "dairy-free" in prompt_words_set
    spicy = bool(prompt_words_set & {"spicy", "hot", "fiery", "chili", "chilli"})
    servings = rng.choice([2, 2, 4, 4, 4, 6])
    named_dishes = {DISH_WORDS[w] for w in prompt_words_set if w in DISH_WORDS}
    dish = rng.choice(sorted(named_dishes)) if named_dishes and rng.random() < 0.9 else rng.choice(list(DISHES) + ["dessert"] * (1 if rng.random() < 0.3 else 0))
    if dish == "dessert":
        title, ingredients, steps, prep, cook = _dessert(rng, words, vegan, servings)
        parts = []
    else:
        roles, dish_cuisines = DISHES[dish]
        named = [CUISINES[w] for w in words if w in CUISINES]
        cuisine = rng.choice(named) if named else rng.choice(dish_cuisines.split() + [""])
        banned = set("mfdeh") if vegan else set("mf" if vegetarian else "") | (set("d") if dairy_free else set())
        parts = _pick_ingredients(rng, dish, roles, cuisine, banned, spicy, prompt_words_set)
        if not parts:  # this cuisine lacks a role the dish needs (no pasta in Thai pantry): cook it any style
            cuisine = ""
            parts = _pick_ingredients(rng, dish, roles, cuisine, banned, spicy, prompt_words_set)
        # Steps name each ingredient as the list does, in the plural where it has one ("carrots").
        parts = [(role, ing[1] or ing[0], ing) for role, ing in parts]
        steps, cook = _recipe_steps(rng, dish, [(r, n) for r, n, _ in parts], servings)
        ingredients = []
        for role, name, ing in parts:
            line = _qty(rng, ing[3], role, servings, ing[1], ing[0])
            cuttable = role != "protein" or ing[4] in ("m", "f") or name in ("firm tofu", "tempeh", "paneer", "halloumi")
            if role in PREP_CUTS and ing[3] != "clove" and cuttable and rng.random() < 0.7:
                line += ", " + rng.choice(PREP_CUTS[role])
            ingredients.append(line)
        prep = 5 * max(1, round((3 + 2 * len(parts)) / 5))
        main = next((n for r, n, _ in parts if r == "protein"), None) or next(n for r, n, _ in parts if r == "veg")
        veg = next((n for r, n, _ in parts if r == "veg" and n != main), "vegetables")
        title = _recipe_title(rng, dish, parts, main, veg, cuisine, spicy)
        if vegan and "vegan" not in title.lower() and rng.random() < 0.4:
            owner, _, rest = title.rpartition("'s ")
            title = f"{owner}'s Vegan {rest}" if owner else "Vegan " + title
    lines = [title, f"Serves {servings} · Prep {prep} min · Cook {cook} min", ""]
    if rng.random() < 0.6 and dish != "dessert":
        desc = rng.choice(DESCRIPTIONS).format(adj=rng.choice(TITLE_ADJECTIVES).lower(), dish=dish, total=prep + cook,
                                               main=main, main_cap=main.capitalize(), veg=veg, occasion=rng.choice(OCCASIONS),
                                               cuisine=CUISINE_NAMES.get(cuisine, "home-style"))
        lines += [desc, ""]
    lines += ["Ingredients:"] + [f"- {i}" for i in ingredients] + ["", "Steps:"]
    lines += [f"{k}. {s}" for k, s in enumerate(steps, 1)]
    if rng.random() < 0.5:
        season = next((n for r, n, _ in parts if r == "season"), "seasoning")
        lines += ["", "Tip: " + rng.choice(TIPS).format(veg=veg if dish != "dessert" else "fruit", method="cooking",
                                                        season=season, dish=dish if dish != "dessert" else "dish")]
    return "\n".join(lines)


# Poetry themes: nouns, adjectives, verbs as (base, -s form). Prompt words pick the theme.
POETRY_THEMES = {name: (n.split(), a.split(), [tuple(v.split("/")) for v in vs.split()]) for name, n, a, vs in [
    ("ocean", "wave tide shore gull shell salt foam harbor reef current horizon sail driftwood lighthouse",
     "blue restless salt-bright endless grey silver deep wild", "roll/rolls break/breaks drift/drifts whisper/whispers rise/rises fall/falls shine/shines wander/wanders"),
    ("moon", "moon night lantern shadow owl star window silence dream candle midnight dusk",
     "pale silver quiet hollow soft cold distant velvet", "glow/glows hang/hangs watch/watches sleep/sleeps drift/drifts hum/hums wait/waits fade/fades"),
    ("autumn", "leaf maple harvest orchard smoke acorn wind field pumpkin path frost apple",
     "golden amber crisp rust-red late falling smoky brown", "fall/falls turn/turns gather/gathers scatter/scatters burn/burns rest/rests crackle/crackles settle/settles"),
    ("spring", "blossom bud sparrow meadow rain seedling petal robin stream morning cherry tulip",
     "green tender new bright young budding fresh gentle", "open/opens sing/sings wake/wakes bloom/blooms climb/climbs stir/stirs dance/dances grow/grows"),
    ("winter", "snow frost ice pine hearth ember sled breath chimney drift fir cabin",
     "white frozen still hushed bitter bare silent glittering", "fall/falls freeze/freezes glitter/glitters rest/rests creak/creaks settle/settles sleep/sleeps hush/hushes"),
    ("rain", "rain puddle umbrella cloud gutter window thunder drop roof storm street mist",
     "grey soft steady silver heavy wet gentle dark", "tap/taps pour/pours gather/gathers run/runs drum/drums drip/drips shine/shines wash/washes"),
    ("forest", "pine fern moss oak deer trail root canopy owl brook mushroom clearing",
     "green ancient shaded quiet tall mossy hidden wild", "rustle/rustles grow/grows breathe/breathes whisper/whispers stand/stands hide/hides climb/climbs sway/sways"),
    ("city", "street train neon tower bridge crowd cafe window subway rooftop siren alley",
     "busy electric crowded late bright restless concrete humming", "hum/hums rush/rushes flicker/flickers wait/waits glow/glows turn/turns roar/roars sleep/sleeps"),
    ("love", "heart hand letter promise kiss smile rose voice memory home embrace song",
     "warm tender true gentle bright quiet endless dear", "hold/holds stay/stays burn/burns wait/waits sing/sings remember/remembers keep/keeps call/calls"),
    ("mountain", "peak ridge summit stone eagle cloud valley glacier trail snowfield pass cairn",
     "high cold steep silent blue ancient jagged vast", "rise/rises stand/stands watch/watches climb/climbs echo/echoes wait/waits soar/soars endure/endures"),
    ("river", "river stone bank reed heron bridge ferry current willow pebble delta boat",
     "slow winding clear muddy cool bright patient deep", "flow/flows bend/bends carry/carries murmur/murmurs run/runs turn/turns shine/shines wander/wanders"),
    ("garden", "rose bee gate soil tomato bench vine sunflower trowel hedge butterfly seed",
     "green sunlit overgrown sweet humming quiet tangled warm", "grow/grows buzz/buzzes climb/climbs open/opens lean/leans bloom/blooms wait/waits spill/spills"),
    ("stars", "star comet galaxy orbit telescope meteor planet sky dust constellation void light",
     "distant burning silver ancient endless cold bright faint", "burn/burns spin/spins fall/falls shine/shines wander/wanders glow/glows turn/turns call/calls"),
    ("time", "clock hour calendar photograph memory year morning candle letter mirror season attic",
     "old faded slow quiet patient golden lost brief", "pass/passes turn/turns fade/fades wait/waits linger/lingers remember/remembers return/returns tick/ticks"),
]}
THEME_WORDS = {"sea": "ocean", "beach": "ocean", "ocean": "ocean", "wave": "ocean", "moon": "moon", "night": "moon",
               "autumn": "autumn", "fall": "autumn", "spring": "spring", "flower": "spring", "winter": "winter",
               "snow": "winter", "rain": "rain", "storm": "rain", "forest": "forest", "tree": "forest", "woods": "forest",
               "city": "city", "urban": "city", "love": "love", "romance": "love", "romantic": "love", "heart": "love",
               "mountain": "mountain", "river": "river", "garden": "garden", "nature": "forest", "star": "stars",
               "stars": "stars", "space": "stars", "sky": "stars", "time": "time", "memory": "time", "nostalgia": "time"}
# Rhyming nouns for quatrains; each line ends on one word of a group.
RHYMES = [g.split() for g in ["light night flight sight kite", "sea tree key bee", "rain lane plain chain pane train",
                               "day way bay clay tray", "sky eye lullaby", "moon tune June dune spoon", "fire wire spire choir",
                               "heart art part cart", "door floor shore core", "snow glow row crow", "air stair chair prayer",
                               "sand hand land strand", "stone bone throne cone", "song throng gong", "gold fold cold hold",
                               "sun one run", "bell well shell spell", "hill mill sill windmill"]]
POEM_FORMS = ("haiku", "tercet", "quatrain", "free verse")
FORM_WORDS = {"haiku": "haiku", "tanka": "haiku", "rhyme": "quatrain", "rhyming": "quatrain", "rhymed": "quatrain",
              "quatrain": "quatrain", "sonnet": "quatrain", "ballad": "quatrain", "free": "free verse",
              "tercet": "tercet", "limerick": "quatrain"}
PREPOSITIONS = ["over", "under", "beside", "beyond", "across", "along", "through", "above", "against", "below"]


def _poem_line(rng, nouns, adjs, verbs):
    n1, n2 = rng.sample(nouns, 2)
    adj = rng.choice(adjs)
    base, third = rng.choice(verbs)
    return rng.choice([f"the {adj} {n1} {third} {rng.choice(PREPOSITIONS)} the {n2}",
                       f"a {n1} of {adj} {n2}", f"I {base} with the {n1}", f"{adj} {n1}, {adj} {n2}",
                       f"where the {n1} {third}", f"and still the {n2} {third}", f"we {base} beneath the {adj} {n1}",
                       f"{n1} and {n2}, {rng.choice(adjs)} and {adj}", f"all night the {n1} {third}",
                       f"you {base} like a {adj} {n1}", f"every {n1} {third} {rng.choice(['slowly', 'softly', 'again', 'alone', 'at last'])}"])


# Words a title can pair with a theme's noun: times, months, colours, materials, moods, and places a poem
# might be set in. Titles start with one of them (or a name), so their first words vary widely.
POEM_MODIFIERS = ("""Morning Evening Midnight Noon Twilight Dawn Dusk Sunday Monday Winter Summer Autumn Spring January
    February March April May June July August September October November December Amber Copper Silver Golden Indigo
    Scarlet Violet Ivory Ochre Cobalt Crimson Glass Paper Iron Velvet Linen Salt Smoke Ash Honey Stone Lantern Candle
    Quiet Lonely Patient Borrowed Broken Hidden Slow Small Last First Second Little Early Late Northern Southern
    Eastern Western Inland Harbor Island Country Kitchen Garden Attic Window Station Schoolyard Orchard Rooftop
    Hospital Wedding Birthday Holiday Sleepless Restless Homesick Tender Wild Distant Sudden Unfinished Remembered
    Forgotten Ordinary Secret Faithful Gentle Weathered Hollow Lucky Open Closing""").split()
POEM_MODIFIERS = [m for m in POEM_MODIFIERS if len(m) <= 7]  # longer ones fill a title's first words alone
POEM_PLACES = ("""Lisbon Oslo Kyoto Lima Cork Galway Dover Brighton Naples Porto Bergen Tromsø Quebec Halifax Hobart Perth
    Cádiz Siena Verona Arles Nice Riga Vilnius Kraków Prague Vienna Sapporo Hakodate Busan Hanoi Hue Goa Kochi Mombasa
    Zanzibar Dakar Tangier Essen Leith Skye Iona Orkney Mull Tiree Harris Cornwall Devon Maine Oregon Montana Nevada Utah
    Alaska Yukon Tahoe Boston Austin Denver Memphis Savannah Chicago Detroit Seattle Tacoma Reno Taos Marfa Sedona Nome
    Ghent Bruges Delft Leiden Malmö Turku Aarhus Bled Split Hvar Corfu Crete Rhodes Paros Capri Malta Gozo""").split()
NUMBER_WORDS = "Two Three Four Five Six Seven Nine Twelve Forty".split()


def _poem_title(rng, nouns, adjs, verbs):
    noun, adj, mod = rng.choice(nouns).capitalize(), rng.choice(adjs).capitalize(), rng.choice(POEM_MODIFIERS)
    name, place = rng.choice(GIRL_NAMES + BOY_NAMES), rng.choice(POEM_PLACES)
    plural = noun + ("es" if noun.endswith(("s", "sh", "ch", "x")) else "s")
    return rng.choice([f"{mod} {noun}", f"{mod} {noun}", f"{adj} {noun}", f"{name}'s {noun}", f"For {name}, in {place}",
                       f"{place} {noun}", f"{place}, {mod}", f"{NUMBER_WORDS[rng.randrange(9)]} {plural}",
                       f"{mod} {noun}, {place}", f"{name} in {place}", f"{mod} Song for {name}", f"{name}, {mod}",
                       f"{name}'s {mod} {noun}", f"{place} {plural}", f"{name} and the {noun}", f"{place} in {mod}",
                       f"{noun} in {place}" if len(noun) < 6 else f"{_gerund(rng.choice(verbs)[0]).capitalize()} {plural}"])


def _gerund(verb):
    if verb.endswith("e") and not verb.endswith("ee"):
        return verb[:-1] + "ing"
    if len(verb) <= 4 and verb[-1] in "nmpgt" and verb[-2] in "aeiou" and verb[-3] not in "aeiou":
        return verb + verb[-1] + "ing"  # run -> running, hum -> humming
    return verb + "ing"


def _poem(rng, words):
    named = [THEME_WORDS[w] for w in words if w in THEME_WORDS] + [w for w in words if w in POETRY_THEMES]
    theme = rng.choice(named) if named and rng.random() < 0.9 else rng.choice(list(POETRY_THEMES))
    nouns, adjs, verbs = POETRY_THEMES[theme]
    forms = [FORM_WORDS[w] for w in words if w in FORM_WORDS]
    form = rng.choice(forms) if forms and rng.random() < 0.9 else rng.choice(POEM_FORMS)
    noun, adj = rng.choice(nouns), rng.choice(adjs)
    title = _poem_title(rng, nouns, adjs, verbs)
    if form == "haiku":
        n1, n2 = rng.sample(nouns, 2)
        base, third = rng.choice(verbs)
        lines = [rng.choice([f"{adj} {n1}", f"the {n1} at dusk", f"a {adj} {n1}", f"{n1} in the wind"]),
                 rng.choice([f"the {n2} {third} {rng.choice(PREPOSITIONS)} the {rng.choice(nouns)}", f"{third} and {rng.choice(verbs)[1]} all day",
                             f"a {rng.choice(adjs)} {n2} {third}"]),
                 rng.choice([f"{rng.choice(adjs)} {rng.choice(nouns)}", "and then, silence", f"the {rng.choice(nouns)} remains",
                             f"{rng.choice(['still', 'soft', 'slow'])} {rng.choice(nouns)}"])]
        poems = [lines]
        for _ in range(rng.choice([1, 2, 2, 3])):  # usually a short sequence
            poems.append([f"{rng.choice(adjs)} {rng.choice(nouns)}", _poem_line(rng, nouns, adjs, verbs), f"{rng.choice(nouns)} {rng.choice(['again', 'at last', 'alone', 'remains'])}"])
    elif form == "quatrain":
        poems = []
        for _ in range(rng.choice([2, 2, 3])):
            a, b = rng.sample(RHYMES, 2)
            ra, rb = rng.sample(a, 2), rng.sample(b, 2)
            ends = [ra[0], rb[0], ra[1], rb[1]] if rng.random() < 0.5 else [ra[0], ra[1], rb[0], rb[1]]
            poems.append([rng.choice([f"The {rng.choice(adjs)} {rng.choice(nouns)} {rng.choice(verbs)[1]} toward the {e}",
                                      f"and I {rng.choice(verbs)[0]} beside the {rng.choice(adjs)} {e}",
                                      f"We kept the {rng.choice(nouns)} as {rng.choice(adjs)} as the {e}",
                                      f"the {rng.choice(nouns)} {rng.choice(verbs)[1]} {rng.choice(PREPOSITIONS)} the {e}",
                                      f"So {rng.choice(adjs)} a {rng.choice(nouns)}, so {rng.choice(adjs)} a {e}"]) for e in ends])
    elif form == "tercet":
        poems = [[_poem_line(rng, nouns, adjs, verbs) for _ in range(3)] for _ in range(rng.choice([2, 3, 3, 4]))]
    else:
        poems = [[_poem_line(rng, nouns, adjs, verbs) for _ in range(rng.randint(6, 10))]]
    stanzas = ["\n".join(line[0].upper() + line[1:] for line in s) for s in poems]
    end = rng.choice(["", ".", ".", "..."])
    return title + "\n\n" + "\n\n".join(stanzas) + end


# Technical guides: a topic, a task with its steps (text, command), parameters drawn per document.
TECH_TASKS = [
    ("git", "create a feature branch and push it", ["Git installed", "a clone of the repository"],
     [("Update your local main branch", "git checkout main && git pull"), ("Create and switch to the new branch", "git checkout -b {branch}"),
      ("Commit your work", "git add {file} && git commit -m \"{message}\""), ("Push the branch and set its upstream", "git push -u origin {branch}")],
     "If the push is rejected, run `git pull --rebase origin {branch}` and push again."),
    ("git", "undo the last commit but keep the changes", ["Git installed", "a commit that was not pushed yet"],
     [("Check the history", "git log --oneline -n 5"), ("Move the branch back one commit", "git reset --soft HEAD~1"),
      ("Confirm the changes are staged", "git status")], "If the commit was already pushed, use `git revert HEAD` instead so others are not affected."),
    ("python", "set up a virtual environment", ["Python {pyver} or newer"],
     [("Create the environment in the project folder", "python -m venv .venv"), ("Activate it", "source .venv/bin/activate"),
      ("Install the dependencies", "pip install {package}"), ("Save the exact versions", "pip freeze > requirements.txt")],
     "If `python` is not found, try `python3`, or check that Python is on your PATH."),
    ("python", "read a CSV file and print a summary", ["Python {pyver}", "a CSV file named {csv}"],
     [("Open the file with the csv module", "rows = list(csv.DictReader(open(\"{csv}\")))"), ("Count the rows", "print(len(rows), \"rows\")"),
      ("Sum one column", "total = sum(float(r[\"{column}\"]) for r in rows)"), ("Print the average", "print(total / len(rows))")],
     "If you see a KeyError, print `rows[0].keys()` to check the exact column names."),
    ("python", "write a unit test with pytest", ["Python {pyver}", "pytest installed (pip install pytest)"],
     [("Create a test file", "touch tests/test_{module}.py"), ("Write a test function", "def test_{func}(): assert {func}({arg}) == {result}"),
      ("Run the tests", "pytest -q tests/test_{module}.py"), ("Run one test by name", "pytest -k {func}")],
     "If pytest cannot import your module, run it from the project root or add an empty conftest.py there."),
    ("linux", "find the largest files in a folder", ["a Linux or macOS shell"],
     [("List folder sizes", "du -sh {dir}/* | sort -h"), ("Find files bigger than {size}", "find {dir} -type f -size +{size}"),
      ("Check free disk space", "df -h")], "If you see 'Permission denied', repeat the command with sudo or limit it to your own folders."),
    ("linux", "schedule a nightly backup with cron", ["shell access to the server", "a backup script at {script}"],
     [("Make the script executable", "chmod +x {script}"), ("Open your crontab", "crontab -e"),
      ("Add a line that runs at {hour}:00 every night", "0 {hour} * * * {script} >> /var/log/backup.log 2>&1"), ("Check the entry", "crontab -l")],
     "If nothing runs, use absolute paths in the script; cron starts with a minimal PATH."),
    ("linux", "set up an SSH key for a server", ["an account on {host}"],
     [("Generate a key pair", "ssh-keygen -t ed25519 -C \"{user}@{host}\""), ("Copy the public key to the server", "ssh-copy-id {user}@{host}"),
      ("Log in without a password", "ssh {user}@{host}")], "If you are still asked for a password, check that ~/.ssh has mode 700 on the server."),
    ("docker", "run a web app in a container", ["Docker installed", "a Dockerfile in the project folder"],
     [("Build the image", "docker build -t {image} ."), ("Run it and publish port {port}", "docker run -d -p {port}:{port} --name {image} {image}"),
      ("Check that it is running", "docker ps"), ("Read the logs", "docker logs -f {image}")],
     "If the port is already in use, pick another one with -p {port2}:{port}."),
    ("docker", "clean up unused images and containers", ["Docker installed"],
     [("See how much space Docker uses", "docker system df"), ("Remove stopped containers", "docker container prune"),
      ("Remove unused images", "docker image prune -a")], "Prune commands ask for confirmation; add -f only in scripts you trust."),
    ("sql", "add an index to speed up a slow query", ["access to the {db} database"],
     [("Look at the query plan", "EXPLAIN SELECT * FROM {table} WHERE {column} = 42;"), ("Create the index", "CREATE INDEX idx_{table}_{column} ON {table} ({column});"),
      ("Check the plan again", "EXPLAIN SELECT * FROM {table} WHERE {column} = 42;")],
     "If the plan does not change, refresh the table statistics with ANALYZE {table};"),
    ("sql", "back up and restore a database", ["PostgreSQL client tools", "the {db} database"],
     [("Dump the database to a file", "pg_dump {db} > {db}_backup.sql"), ("Create an empty database", "createdb {db}_restore"),
      ("Restore the dump", "psql {db}_restore < {db}_backup.sql")], "If restoring fails on roles, add --no-owner to pg_dump."),
    ("javascript", "start a small Node.js project", ["Node.js {nodever} or newer", "npm"],
     [("Create the project", "mkdir {project} && cd {project} && npm init -y"), ("Install a package", "npm install {jspackage}"),
      ("Add a start script to package.json", "\"start\": \"node index.js\""), ("Run it", "npm start")],
     "If npm reports EACCES errors, do not use sudo; fix the npm folder permissions instead."),
    ("rust", "create and run a Rust command-line tool", ["Rust installed with rustup"],
     [("Create the project", "cargo new {project}"), ("Build and run it", "cargo run"), ("Add a dependency", "cargo add {crate}"),
      ("Build an optimized binary", "cargo build --release")], "If the build is slow, `cargo check` finds errors without producing a binary."),
]
TECH_PARAMS = {"branch": "feature/login fix/typo feature/search feature/export fix/timeout docs/readme feature/dark-mode fix/crash-on-start".split(),
               "file": "app.py main.rs index.js README.md config.yaml utils.py".split(),
               "message": ["Add login form", "Fix typo in docs", "Handle empty input", "Speed up search", "Add export button"],
               "pyver": "3.9 3.10 3.11 3.12".split(), "package": "requests numpy flask pandas rich click httpx".split(),
               "csv": "sales.csv data.csv scores.csv orders.csv weather.csv".split(), "column": "price amount score total temperature".split(),
               "module": "parser utils math_tools cart dates".split(), "func": "add slugify parse_date total_price clamp".split(),
               "arg": "2, 3|\"Hello World\"|\"2024-01-05\"|[1, 2]|15, 0, 10".split("|"), "result": "5|\"hello-world\"|date(2024, 1, 5)|3|10".split("|"),
               "dir": "~/Downloads /var/log ~/projects /home /tmp".split(), "size": "100M 500M 1G 50M".split(),
               "script": "/usr/local/bin/backup.sh ~/bin/backup.sh /opt/scripts/nightly.sh".split(), "hour": "1 2 3 4".split(),
               "user": "alice bob deploy admin maria".split(), "host": "example.com build-server staging.local 192.168.1.20".split(),
               "image": "myapp webapp api-server blog shop".split(), "port": "8000 8080 3000 5000".split(), "port2": "8081 9000 3001".split(),
               "db": "shop app inventory analytics".split(), "table": "orders users events products".split(),
               "nodever": "18 20 22".split(), "project": "todo-cli notes-app weather-bot hello-api word-count".split(),
               "jspackage": "express axios lodash dayjs chalk".split(), "crate": "clap serde anyhow regex rand".split(), "minutes": "5 10 15 20".split()}
TECH_PARAMS["project"] += "recipe-site inventory-tool chat-server photo-sorter budget-app blog-engine quiz-game ml-notes".split()
TECH_PARAMS["user"] += "chen fatima lucas olga priya tom".split()
TECH_CONTEXTS = ["You will need this when {user} sets up {project} on a new machine.",
                 "These steps were tested with {label} on {host}.", "Time needed: about {minutes} minutes.",
                 "This came up while working on {project}; the same steps work for any project.",
                 "Run the commands from the {project} folder unless a step says otherwise.",
                 "Written for {label} beginners; each step shows the exact command."]
STEP_OPENERS = ["", "", "First, ", "Next, ", "Then ", "Now ", "After that, ", "Once that is done, "]
# Remarks a writer adds after some steps; which steps get one, and which, differs per document, so guides
# for the same task share fewer phrases (they were 40% near duplicates with the steps alone).
STEP_REMARKS = ["This takes a few seconds.", "If it worked, there is no output.", "Read the output before moving on.",
                "Copy the command exactly; the spaces matter.", "You only need to do this once per machine.",
                "On Windows, run it in WSL or Git Bash.", "{author} forgot this step the first time.",
                "It is safe to run this again.", "Keep the terminal open for the next step.",
                "The output lists what changed.", "Expect a short pause on the first run.", "Skip this if you did it for {project}.",
                "Errors here usually mean a typo in the name.", "This is the step most people skip.", "Nothing else is needed here."]
TECH_INTROS = ["{author} asked how to {task}, so here are the steps.", "I keep forgetting how to {task}, so this is my cheat sheet.",
               "Our team had to {task} for {project} last week.", "A short answer to a common question: how to {task}.",
               "Below is the way I {task} on {host}.", "If you are new to {label}, this is a good first task.",
               "It took me a while to learn how to {task}; it should take you ten minutes."]
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def _gerund_phrase(task):
    verb, _, rest = task.partition(" ")
    return _gerund(verb).capitalize() + " " + rest


def _tech_title(rng, task, label, p):
    user = p["author"]
    date = f"{rng.randint(2019, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    by_person = [f"{user}'s notes: {task}", f"{user}'s {label} notes: {task}", f"{user} on how to {task}",
                 f"{user} asks: how do I {task}?", f"Note {rng.randint(1, 99)} of {user}'s {label} series: {task}"]
    dated = [f"{date}: {task}", f"{date} {label} log: {task}", f"{MONTHS[rng.randrange(12)]} {rng.randint(1, 28)}: {task}"]
    plain = [f"How to {task}", f"{label}: {task}", f"{p['project']}: how to {task}", f"{_gerund_phrase(task)} ({label})",
             f"{_gerund_phrase(task)} on {p['host']}", f"{p['project']} runbook: {task}", f"{label} for {p['project']}: {task}"]
    # people and dates first in most titles: a task list this short would otherwise open every guide alike
    return rng.choice(rng.choices([by_person, dated, plain], weights=[5, 5, 2])[0])


def _guide(rng, words):
    named = [t for t in TECH_TASKS if t[0] in words or (t[0] == "javascript" and "node" in words)]
    topic, task, prereqs, steps, trouble = rng.choice(named) if named and rng.random() < 0.9 else rng.choice(TECH_TASKS)
    p = {k: rng.choice(v) for k, v in TECH_PARAMS.items()}
    p["author"] = rng.choice(GIRL_NAMES + BOY_NAMES)  # who wrote the note; {user} is a login name in commands
    chosen = steps if len(steps) <= 3 or rng.random() < 0.6 else steps[:1] + rng.sample(steps[1:-1], len(steps) - 3) + steps[-1:]
    label = {"sql": "SQL", "javascript": "JavaScript", "linux": "Linux", "docker": "Docker", "git": "Git",
             "python": "Python", "rust": "Rust"}[topic]
    fill = dict(p, task=task, label=label)
    remark = lambda: " " + rng.choice(STEP_REMARKS).format(**fill) if rng.random() < 0.35 else ""
    title = _tech_title(rng, task, label, p)
    title = title[0].upper() + title[1:]
    shape = rng.random()
    if shape < 0.6:  # a guide with numbered steps
        lines = [title, ""]
        if rng.random() < 0.7:
            lines += [rng.choice(TECH_CONTEXTS + TECH_INTROS).format(**fill), ""]
        if rng.random() < 0.8:
            lines += ["Prerequisites:"] + [f"- {x.format(**p)}" for x in prereqs] + [""]
        lines += [rng.choice(["Steps:", "Steps:", "How:", "Do this:"])]
        for k, (text, cmd) in enumerate(chosen, 1):
            opener = rng.choice(STEP_OPENERS) if k > 1 else ""
            text = text.format(**p)
            lines.append(f"{k}. {opener}{(text[0].lower() if opener else text[0]) + text[1:]}:")
            lines.append(f"   {cmd.format(**p)}")
            note = remark()
            if note:
                lines.append("  " + note)
        lines += ["", rng.choice(["Troubleshooting: ", "If it fails: ", "Note: "]) + trouble.format(**p)]
    elif shape < 0.8:  # a journal-style entry in prose
        lines = [title, ""]
        prose = [rng.choice(TECH_INTROS).format(**fill)]
        for k, (text, cmd) in enumerate(chosen):
            lead = rng.choice(["First", "To begin"]) if k == 0 else rng.choice(["Then", "Next", "After that", "Finally" if k == len(chosen) - 1 else "Then"])
            text = text.format(**p)
            prose.append(f"{lead}, {text[0].lower() + text[1:]} with `{cmd.format(**p)}`.{remark()}")
        lines += [" ".join(prose), "", trouble.format(**p)]
    else:  # a short reference note
        text, cmd = rng.choice(steps)
        text = text.format(**p)
        lines = [title if rng.random() < 0.85 else rng.choice([f"{label} note: {text.lower()}", f"Note for {p['project']}: {text.lower()}",
                             f"{p['author']}'s {label} note: {text.lower()}"]), "", rng.choice([f"Use this when you need to {task}.",
                 f"This is one step of the usual way to {task}.", f"A command worth remembering if you often {task}."]),
                 "", "Example:", f"    {cmd.format(**p)}", "", rng.choice(TECH_CONTEXTS).format(**fill),
                 "Note: " + trouble.format(**p)]
    if label not in "\n".join(lines):
        lines += ["", rng.choice([f"Filed under: {label}.", f"Tags: {label}, {topic} how-to", f"Category: {label}"])]
    return "\n".join(lines)


# Short stories and dialogues in the style of TinyStories: a character, a place, a problem, a resolution.
# Names (with the pronoun each takes) come first in most openers, so a large name list is what keeps the
# first words of thousands of stories from repeating.
GIRL_NAMES = ("Lily Mia Zoe Ana Ella Ruby Ivy Nora Rosa Maya Luna Sara Iris Amy Yuki Greta Emma Olivia Ava Sophia "
              "Isla Chloe Grace Alice Hannah Lucy Millie Evie Freya Poppy Daisy Willow Hazel Clara Jade Nina Leah "
              "Esme Ada Mabel Elsie Amara Zara Aisha Fatima Priya Mei Hana Sakura Aiko Lena Anya Olga Ingrid Elena "
              "Lucia Carmen Sofia Paula Inés Noor Layla Yara Amina Kiki Bea Tess Gwen Fern June Kate Molly Rose Beth "
              "Dora Edie Fay Gina Hope Joy Kira Lola Mina Nell Opal Pia Quinn Rita Suki Tara Uma Vera Wren Xena Yasmin "
              "Zuri Abby Cleo Dana Elif Fleur Hattie Imani Jana Keiko Lottie Maisie Nadia Odette Peg Rhea Ali Asha Bella Cara "
              "Dee Eva Fifi Gia Ida Ines Jo Kay Lia Liv Lux May Meg Mira Nia Oona Pam Rae Ria Sue Tia Una Val Viv Zia "
              "Ama Ayo Bex Dot Emi Eve Flo Gail Iona Jen Kim Lea Lin Mae Noa Ona Ren Sia Tove Vi Yoko").split()
BOY_NAMES = ("Tom Ben Max Leo Sam Noah Finn Omar Kai Theo Jack Eli Hugo Ravi Pablo Milo Liam Oliver Ethan Lucas Oscar "
             "Arlo Felix Jasper Otto Rory Toby Ezra Jonah Caleb Owen Ivan Nico Mateo Diego Luis Marco Enzo Hiro Kenji "
             "Ryo Jin Arjun Dev Sami Yusuf Tariq Kofi Jomo Obi Lars Nils Sven Anton Emil Pavel Ted Alf Bo Cal Dan Ed "
             "Gus Hal Ike Jay Ken Lou Mo Ned Pip Ray Rex Sid Tim Vic Wes Zed Abe Bram Cody Dex Fred Gabe Huck Jude "
             "Kit Lenny Mack Nate Ollie Percy Reid Seth Ty Vince Wyatt Yuri Zack Alfie Barney Charlie Dylan Elliot Ari Ash "
             "Avi Baz Ben Bob Cai Eno Fox Guy Ian Ira Jon Jus Kip Lev Lex Luc Mal Nat Ola Pat Rob Ron Roy Sol Taj Uli "
             "Van Xan Yan Ziv Ade Ajay Bert Cole Dave Emil Gil Jim Joe Kurt Leon Mika Neil Paco Rafe Saul Ugo").split()
KINDS = "girl boy puppy kitten rabbit bear fox robot dragon mouse duck turtle owl squirrel hedgehog frog pony bunny".split()
TRAITS = ("curious shy brave kind sleepy cheerful clever little grumpy gentle silly busy tiny proud careful happy "
          "bold quiet friendly playful").split()
PLACES = {"park": "park", "forest": "forest", "beach": "beach", "ocean": "beach", "sea": "beach", "farm": "farm",
          "school": "school", "garden": "garden", "city": "busy city", "space": "space station", "moon": "space station",
          "castle": "castle", "village": "small village", "mountain": "mountain", "river": "river", "kitchen": "kitchen",
          "pond": "pond", "zoo": "zoo", "library": "library", "market": "market", "meadow": "meadow", "lake": "lake"}
STORY_OBJECTS = ["red ball", "kite", "toy boat", "blue hat", "shiny key", "drawing", "picture book", "music box",
                 "paper crown", "lunch box", "yellow scarf", "little drum", "jar of honey", "map", "lantern", "teddy bear",
                 "green bike", "sand bucket", "spotted umbrella", "wooden whistle", "toy train", "button jar",
                 "striped sock", "snow globe", "paper boat", "silver bell", "flower pot", "treasure box"]
TIMES = ["morning", "afternoon", "evening", "sunny day", "Saturday", "Sunday", "summer day", "snowy day", "spring morning"]
WEATHERS = ["windy", "rainy", "sunny", "cold", "warm", "foggy", "snowy", "bright", "cloudy", "stormy"]
# Each problem comes with the ways out of it that make sense for it.
PROBLEMS = [
    ("lost {pos} {obj}", ["looked under every bush and finally found it", "asked {friend} for help, and together they found it behind a tree",
                          "went back to every place {pronoun} had been that day, and there it was"]),
    ("could not reach {pos} {obj} on a high shelf", ["built a ladder out of old boxes", "asked {parent} for help",
                                                      "asked {friend} to hold the chair steady"]),
    ("saw that {pos} {obj} was broken", ["fixed it with {parent} and some glue", "asked {friend} for help, and together they fixed it",
                                         "decided to love it just the same"]),
    ("was afraid of the dark near the {place}", ["sang a song to feel brave", "held {friend}'s hand and walked on slowly",
                                                 "took a small lantern and saw that the dark was only the night"]),
    ("had no one to play with", ["shared a snack with {friend}, and they became friends", "asked a new kid to join the game",
                                 "started a game, and soon everyone wanted to play"]),
    ("wanted to win the race at the {place}", ["practised every day until {pronoun} was fast", "ran as hard as {pronoun} could and came second, and that was fine",
                                              "stopped to help {friend}, who had fallen, and they finished together"]),
    ("could not find the way home from the {place}", ["followed the little path back, step by step", "asked a kind old owl, who knew the way",
                                                      "remembered the big tree near home and walked toward it"]),
    ("dropped {pos} {obj} into the water", ["used a long stick to pull it back", "waited, and the water carried it to the shore",
                                            "asked {friend}, who had a net, to help"]),
    ("found a baby bird alone by the {place}", ["waited quietly until its mother came back", "asked {parent} what to do and kept it warm",
                                                "made a soft nest of leaves and watched over it"]),
    ("wanted to give {friend} a present but had no money", ["made a gift out of paper and glue", "picked a bunch of flowers from the {place}",
                                                            "wrote a song just for {friend}"]),
    ("heard a strange noise coming from the {place}", ["walked slowly toward the sound and saw it was only the wind",
                                                       "looked closer and found a little lost puppy", "asked {friend} to come and listen too"]),
    ("had a fight with {friend} about the {obj}", ["said sorry, and {friend} said sorry too", "took turns with {friend}, and they both laughed",
                                                   "listened to {friend}, and they found a way to share"]),
]
MIDDLES = ["A little bird landed nearby and looked at {them}.", "{Pronoun} sat down on a rock to think.",
           "{Pronoun} remembered what {parent} always said: never give up.", "The wind blew and the leaves danced around {them}.",
           "\"What can I do?\" {name} asked.", "{Pronoun} tried once, but it did not work."]
ENDINGS = ["{name} smiled a big smile.", "After that, {name} and {friend} played until the sun went down.",
           "{name} felt proud and happy.", "That night, {name} slept with a smile.",
           "From that day on, {name} and {friend} were best friends.", "{name} ran home to tell {parent} all about it.",
           "{name} hugged the {obj} and laughed.", "It was the best day ever."]
LATER = ["The next day, {name} went back to the {place} with {friend}.", "A week later, {friend} came to visit with a {obj}.",
         "When {parent} heard the story, {pronoun} laughed and gave {name} a warm hug.",
         "Soon the whole {place} knew what {name} had done.", "The next {time}, the {weather} sky made {name} think of that day."]
LATER_END = ["They played together until it was time for dinner.", "{name} knew that {pronoun} could do hard things now.",
             "{Pronoun} told {friend} everything, and they laughed a lot.", "And every time {pronoun} saw the {obj}, {pronoun} smiled."]
MORALS = ["Asking for help is not a bad thing.", "Being kind makes everyone happy.", "Trying again is how you learn.",
          "Friends make hard days easier.", "It is good to be patient.", "Sharing turns strangers into friends.",
          "Saying sorry can fix a lot.", "Being brave does not mean you are never scared."]
PARENTS = ["Mom", "Dad", "Grandma", "Grandpa", "Mama", "Papa", "Auntie"]
# Openers: most are a subject (the name, alone or with a friend or a description) and a predicate, so the
# first words vary as much as the names do; a few classic openers remain.
SUBJECTS = ["{name}", "{name}", "{name} and {friend}", "{name} and {friend}", "{name} and {friend}", "{name} the {kind}",
            "{name}, a {trait} little {kind},", "{name} and {pos} {parent}", "{name} and {pos} friend {friend}"]
PREDICATES = ["lived in a small house near the {place}.", "loved to play at the {place}.",
              "woke up early and ran to the {place}.", "went to the {place} one {time}.",
              "had a {obj} that {pronoun} loved more than anything.", "found a {obj} by the {place}.",
              "wanted to see the {place} for the first time.", "liked {weather} days best of all.",
              "could not wait for the {time} to come.", "felt {mood} that {time}.",
              "built a fort out of pillows and a {obj}.", "made a plan to visit the {place}.",
              "walked to the {place} on a {weather} {time}.", "sang songs all the way to the {place}."]
CLASSIC_OPENERS = ["Once upon a time, there was a {trait} {kind} named {name}.",
                   "On a {weather} {time}, {name} went to the {place}.", "Every {time}, {name} liked to play at the {place}.",
                   "One {time}, {name} the {kind} went to the {place}.", "Little {name} woke up early and ran to the {place}.",
                   "It was a {weather} {time} at the {place}, and {name} was bored.",
                   "In a {trait} corner of the {place} lived a {kind} called {name}.",
                   "\"{excl}, {friend}!\" called {name}. \"Come and see the {place}!\"",
                   "\"{excl}, {parent}!\" said {name}. \"Can we go to the {place} today?\""]


def _story(rng, words):
    girl = rng.random() < 0.5
    name = rng.choice(GIRL_NAMES if girl else BOY_NAMES)
    friend = rng.choice(GIRL_NAMES + BOY_NAMES)
    while friend == name:
        friend = rng.choice(GIRL_NAMES + BOY_NAMES)
    kind = _steer(rng, words, KINDS)
    if kind in ("girl", "boy"):
        kind = "girl" if girl else "boy"
    place = next((PLACES[w] for w in words if w in PLACES and rng.random() < 0.8), None) or rng.choice(sorted(set(PLACES.values())))
    p = dict(name=name, friend=friend, kind=kind, trait=rng.choice(TRAITS), place=place, obj=rng.choice(STORY_OBJECTS),
             time=rng.choice(TIMES), weather=rng.choice(WEATHERS), parent=rng.choice(PARENTS),
             pronoun="she" if girl else "he", Pronoun="She" if girl else "He", them="her" if girl else "him",
             pos="her" if girl else "his", mood=rng.choice(["happy", "sleepy", "excited", "bored", "curious", "brave", "grumpy", "silly"]),
             excl=rng.choice(["Look", "Hey", "Wow", "Quick", "Wait", "Oh", "Hi", "Yay", "Come on"]))
    problem, helps = rng.choice(PROBLEMS)
    problem, help_ = problem.format(**p), rng.choice(helps).format(**p)
    # the classic openers put the same words first, so they are a minority
    if rng.random() < 0.85:
        subject = rng.choice(SUBJECTS)
        plural = " and " in subject
        opener = (subject + " " + rng.choice(PREDICATES)).format(**dict(p, pronoun="they" if plural else p["pronoun"]))
    else:
        opener = rng.choice(CLASSIC_OPENERS).format(**p)
    if rng.random() < 0.15:
        said = re.sub(r"\b(was afraid|saw|could|had|wanted|heard|found)\b",
                      lambda m: {"was afraid": "am afraid", "saw": "see", "could": "can", "had": "have", "wanted": "want",
                                 "heard": "hear", "found": "found"}[m.group(0)], problem)
        said = said.replace(f" {p['pos']} ", " my ").replace("was broken", "is broken")
        lines = [opener, "",
                 f"{name}: {rng.choice(['Oh no!', 'Help!', 'Hmm.', 'Look!', 'Oh dear.', 'Quick!'])} I {said}.",
                 f"{friend}: {rng.choice(['Do not worry.', 'I can help you.', 'Let us think.', 'Oh!'])} "
                 f"{rng.choice(['What should we do?', 'What happened?', 'Are you okay?'])}",
                 f"{name}: {rng.choice(['Maybe we can try together.', 'I do not know.', 'Can you help me?', 'I am a bit scared.'])}",
                 f"{friend}: {rng.choice(['Yes! Come with me.', 'Of course. Follow me.', 'Let us try.', 'I have an idea.'])}",
                 f"{name}: {rng.choice(['Thank you, ' + friend + '!', 'We did it!', 'You are a good friend.', 'Hooray!'])}"]
        return "\n".join(lines)
    s = [opener,
         rng.choice([f"{name} loved the {p['obj']}.", f"{p['Pronoun']} was very happy there.", f"{name} liked to laugh and run.",
                     "The sun was warm and the sky was blue.", f"{p['Pronoun']} liked to sing while {p['pronoun']} played.",
                     f"Everyone at the {place} knew {name}."]),
         f"{rng.choice(['One day', 'But one day', 'That day', 'Then one day', 'One afternoon'])}, {name} {problem}.",
         rng.choice([f"{name} felt sad.", f"{p['Pronoun']} did not know what to do.", f"{name} started to cry.",
                     f"{name} was worried.", f"{p['Pronoun']} felt a little scared."])]
    s += [m.format(**p) for m in rng.sample(MIDDLES, rng.randint(1, 2))]
    s += [f"Then {name} {help_}.", rng.choice(ENDINGS).format(**p)]
    if rng.random() < 0.5:
        s.append(rng.choice(MORALS))
    if rng.random() < 0.75:  # a second paragraph, as many TinyStories have
        later = [rng.choice(LATER).format(**p), rng.choice(LATER_END).format(**p)]
        return " ".join(s) + "\n\n" + " ".join(later)
    return " ".join(s)


GENERATORS = {"cooking": _recipe, "poetry": lambda rng, w, ws: _poem(rng, w),
              "technical": lambda rng, w, ws: _guide(rng, ws), "general": lambda rng, w, ws: _story(rng, ws)}
DOMAINS = tuple(GENERATORS)  # every domain a run can have; detect_domain answers one of these


def generate_template_samples(prompt, domain, n_tokens, seed):
    """Documents from the domain's compositional generator until their estimated tokens reach n_tokens.

    Deterministic for (prompt, domain, seed); words of the prompt steer the choices the vocabulary has.
    """
    if domain not in GENERATORS:
        raise UserError(f"unknown domain {domain!r}; choose one of {', '.join(DOMAINS)}")
    rng = random.Random(seed)
    words = prompt_words(prompt)
    words_set = set(words) | {f for w in words for f in word_forms(w)}
    make = GENERATORS[domain]
    docs, total = [], 0
    while total < n_tokens:
        doc = make(rng, words, words_set)
        docs.append(doc)
        total += estimate_tokens(doc)
    return docs

