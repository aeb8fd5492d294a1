"""
Offline recipes (templates.py): a title, a servings and times line, an ingredient list with quantities,
numbered steps that use exactly those ingredients, and a tip. Prompt words pick cuisines, diets, dishes
and heat ("Japanese", "vegan", "soup", "spicy").
"""
import re

from words import BOY_NAMES, GIRL_NAMES, joined, steer


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
# At most two of a role: a small model's commonest slip is listing the line above's ingredient again,
# which it does among same-role lines; with two, not three, it slipped less (7-10 lines, not 9-12;
# README, Presets, for the figures).
DISHES = {
    "stir-fry": ([("protein", 1), ("veg", 2), ("aromatic", 2), ("season", 2), ("base", 1), ("herb", 1)], "jp cn kr th us"),
    "soup": ([("aromatic", 2), ("veg", 2), ("protein", 1), ("liquid", 1), ("season", 2), ("herb", 1)], "jp cn kr th in it mx fr gr es me us"),
    "curry": ([("aromatic", 2), ("season", 2), ("protein", 1), ("veg", 2), ("liquid", 1), ("base", 1), ("herb", 1)], "th in jp me"),
    "pasta": ([("base", 1), ("aromatic", 2), ("veg", 2), ("protein", 1), ("liquid", 1), ("season", 1), ("herb", 1)], "it gr fr us"),
    "bowl": ([("base", 1), ("veg", 2), ("protein", 1), ("season", 2), ("herb", 1)], "jp kr mx me us gr th"),
    "traybake": ([("protein", 1), ("veg", 2), ("aromatic", 1), ("season", 2), ("herb", 1)], "gr me es us fr it in mx"),
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
    """(amount, noun) of one list line, "350 g" and "beef strips": the noun is what the steps call it."""
    scale = servings / 4
    if unit == "g":
        base = {"protein": (300, 600), "base": (200, 400), "herb": (40, 80)}.get(role, (100, 300))
        return f"{int(round(rng.randint(*base) * scale / 50.0) * 50) or 50} g", name
    if unit == "ml":
        return f"{int(round(rng.randint(300, 900) * scale / 100.0) * 100) or 100} ml", name
    if unit == "count":
        n = max(1, round(rng.randint(1, 3) * scale))
        return str(n), plural if n > 1 and plural else name
    if unit == "clove":
        return f"{rng.randint(2, 5)} cloves", name
    if unit == "cm":
        return f"{rng.choice([2, 3, 4])} cm piece", name
    if unit == "stalk":
        return f"{rng.randint(1, 3)} stalks", name
    if unit == "handful":
        return f"a {rng.choice(['small ', 'large ', ''])}handful of", name
    if unit == "pinch":
        return "a pinch of", name
    amount = rng.choice(["1", "2", "1 1/2", "1/2", "3"]) if unit == "tsp" else rng.choice(["1", "2", "3", "1 1/2"])
    return f"{amount} {unit}", name


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
        steps.append(f"Toss the {joined(protein + veg)} with {joined(aro + season)} and 2 tbsp oil on a large tray.")
        steps.append(rng.choice([f"Roast for {m} minutes, turning once, until the {protein[0]} is cooked through and the edges are golden.",
                                 f"Roast for {m} minutes until everything is tender and browned at the edges."]))
    elif dish == "bowl":
        steps.append(f"Whisk the {joined(season)} with 2 tbsp oil to make a dressing.")
        m = rng.choice([5, 6, 8])
        cook += m
        steps.append(rng.choice([f"Cook the {protein[0]} in a hot pan for {m} minutes until golden.",
                                 f"Sear the {protein[0]} for {m} minutes, turning halfway."]))
        steps.append(f"Pile the {base[0]} into bowls and top with the {joined(veg)} and the {protein[0]}.")
    else:
        vessel = {"stir-fry": "wok", "soup": "large pot", "curry": "heavy pan", "pasta": "deep frying pan"}[dish]
        m = rng.choice([2, 3, 4, 5])
        cook += m
        steps.append(rng.choice([f"Heat 1 tbsp oil in a {vessel} and fry the {joined(aro)} for {m} minutes until fragrant.",
                                 f"Warm a little oil in a {vessel} over medium heat and soften the {joined(aro)}, about {m} minutes."]))
        m = rng.choice([4, 5, 6, 8])
        cook += m
        steps.append(rng.choice([f"Add the {protein[0]} and cook for {m} minutes, stirring, until lightly browned.",
                                 f"Add the {protein[0]} and brown well for {m} minutes."]))
        if dish == "curry":
            steps.append(f"Stir in the {joined(season)} and cook for 1 minute.")
        m = rng.choice([3, 4, 5])
        cook += m
        steps.append(f"Add the {joined(veg)} and cook for {m} minutes.")
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
            steps.append(f"Add the {joined(season)} and toss for 1 minute until everything is glossy.")
        elif dish != "curry":
            steps.append(f"Season with the {joined(season)}, then taste and adjust.")
        if dish == "pasta":
            steps.append(f"Toss in the {base[0]}, adding a splash of the cooking water to loosen the sauce.")
    serve = rng.choice(["Serve", "Serve at once", "Spoon onto plates and serve", "Divide between plates and serve"])
    if base and dish in ("stir-fry", "curry", "soup"):
        steps.append(f"{serve} with the {base[0]}, topped with the {joined(herb)}.")
    else:
        steps.append(f"{serve}, scattered with the {joined(herb)}.")
    return steps, cook


DESSERTS = ["Muffins", "Banana Bread", "Crumble", "Sheet Cake", "Cookies", "Loaf Cake", "Pancakes", "Brownies"]
DESSERT_FLAVORS = ["blueberries", "chopped apples", "raspberries", "dark chocolate chips", "chopped walnuts",
                   "sliced bananas", "chopped pecans", "dried cranberries", "chopped pears", "lemon zest"]
DESSERT_SPICES = ["ground cinnamon", "vanilla extract", "cocoa powder", "ground ginger", "nutmeg", "cardamom"]


def _dessert(rng, words, vegan, servings):
    dish = steer(rng, words, DESSERTS)
    add = rng.sample(DESSERT_FLAVORS, 2)
    spice = rng.choice(DESSERT_SPICES)
    fat = "coconut oil" if vegan else rng.choice(["butter", "melted butter"])
    milk = rng.choice(["oat milk", "almond milk", "soy milk"]) if vegan else "milk"
    binder = "ground flaxseed mixed with 3 tbsp water" if vegan else rng.choice(["eggs", "large eggs"])
    sugar = rng.choice(["caster sugar", "brown sugar", "light brown sugar"])
    ingredients = [f"{rng.choice([200, 225, 250, 300])} g plain flour", f"{rng.choice([100, 120, 150])} g {sugar}",
                   "2 tsp baking powder", f"1 tsp {spice}", f"{rng.choice([80, 100, 120])} g {fat}",
                   f"{rng.choice([150, 200, 250])} ml {milk}", (f"1 tbsp {binder}" if vegan else f"2 {binder}"),
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
    adj = steer(rng, words, ["Easy", "Fluffy", "Golden", "Cozy", "Simple", "Sunday", "Vegan" if vegan else "Classic", "Spiced"])
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


def recipe(rng, words, prompt_words_set):
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
        # Steps name each ingredient word for word as its line in the list does ("1 carrot" -> "the carrot",
        # "3 carrots" -> "the carrots"). The list is in the order the steps use it, as recipe writers list
        # them, and a role's ingredients (the aromatics, the vegetables) are in alphabetical order: a model
        # that has learned the order rarely lists an ingredient twice (README, "Presets", for the figures).
        lines, nouns = {}, {}
        for role, ing in parts:
            amount, nouns[ing[0]] = _qty(rng, ing[3], role, servings, ing[1], ing[0])
            line = f"{amount} {nouns[ing[0]]}"
            cuttable = role != "protein" or ing[4] in ("m", "f") or ing[0] in ("firm tofu", "tempeh", "paneer", "halloumi")
            if role in PREP_CUTS and ing[3] != "clove" and cuttable and rng.random() < 0.7:
                line += ", " + rng.choice(PREP_CUTS[role])
            lines[ing[0]] = line
        parts = [(role, nouns[ing[0]], ing) for role, ing in sorted(parts, key=lambda p: (p[0], p[1][0]))]
        steps, cook = _recipe_steps(rng, dish, [(r, n) for r, n, _ in parts], servings)
        used = ingredients_in("\n".join(steps))
        ingredients = [lines[ing[0]] for _, _, ing in sorted(parts, key=lambda p: used.index(p[2][0]))]
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


# -----------------------------------------------------------------------------
# the rules every recipe above obeys, as a check of any text (a trained model's samples)

DESSERT_PANTRY = ["plain flour", "caster sugar", "brown sugar", "light brown sugar", "baking powder", "butter",
                  "melted butter", "coconut oil", "milk", "oat milk", "almond milk", "soy milk", "ground flaxseed",
                  "eggs", "large eggs"] + DESSERT_FLAVORS + DESSERT_SPICES
# every name an ingredient goes by (singular and plural) -> the ingredient; longest first, so that
# "jasmine rice" is one ingredient, not "rice"
INGREDIENT_NAMES = {name: row[0] for row in INGREDIENTS + HOT_INGREDIENTS for name in (row[0], row[1]) if name}
INGREDIENT_NAMES.update({name: name for name in DESSERT_PANTRY})
INGREDIENT_NAMES.update({"large eggs": "eggs", "melted butter": "butter"})
_INGREDIENT_RE = re.compile(r"\b(" + "|".join(re.escape(n) for n in sorted(INGREDIENT_NAMES, key=len, reverse=True)) + r")\b")
_QUANTITY_RE = re.compile(r"^- (\d[\d /]*|a (small |large )?(handful|pinch)) ")
RECIPE_RULES = ("title", "servings_line", "ingredient_list", "numbered_steps", "no_ingredient_twice", "steps_use_listed")


def ingredients_in(text):
    """The ingredients text names, in order, each by its list name ("carrots" -> "carrot")."""
    return [INGREDIENT_NAMES[m.group(1)] for m in _INGREDIENT_RE.finditer(text)]


def check_recipe(text):
    """{rule: passed} for one recipe: a title, a 'Serves N · Prep N min · Cook N min' line, an ingredient
    list whose every line has a quantity, steps numbered 1, 2, 3..., no ingredient listed twice, and every
    ingredient the steps name is on the list."""
    lines = text.strip("\n").split("\n")
    head, _, rest = text.partition("\nIngredients:\n")
    listed_part, _, steps_part = rest.partition("\n\nSteps:\n")
    listed = [line for line in listed_part.split("\n") if line.strip()]
    steps = [line for line in steps_part.split("\n\nTip:")[0].split("\n") if line.strip()]
    listed_names = [ingredients_in(line)[:1] for line in listed]
    named_in_steps = set(ingredients_in("\n".join(steps)))
    return {
        "title": bool(lines) and 0 < len(lines[0]) <= 80 and lines[0][0].isupper() and not lines[0].startswith(("Serves", "Ingredients")),
        "servings_line": len(lines) > 1 and re.fullmatch(r"Serves \d+ · Prep \d+ min · Cook \d+ min", lines[1]) is not None,
        "ingredient_list": len(listed) >= 2 and all(_QUANTITY_RE.match(line) for line in listed),
        "numbered_steps": len(steps) >= 2 and all(line.startswith(f"{k}. ") and len(line) > 6 for k, line in enumerate(steps, 1)),
        "no_ingredient_twice": all(listed_names) and len({n[0] for n in listed_names}) == len(listed_names),
        "steps_use_listed": bool(steps) and named_in_steps <= {n[0] for n in listed_names if n},
    }
