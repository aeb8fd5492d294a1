"""
Offline poems (templates.py): haiku-like tercets, rhymed quatrains and free verse under a title, on a
theme the prompt's words pick ("ocean", "moon", "haiku").
"""
import re

from words import BOY_NAMES, GIRL_NAMES, gerund


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
                       f"{noun} in {place}" if len(noun) < 6 else f"{gerund(rng.choice(verbs)[0]).capitalize()} {plural}"])


def poem(rng, words):
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


# -----------------------------------------------------------------------------
# the rules every poem above obeys, as a check of any text (a trained model's samples)

RHYME_GROUP = {word.lower(): k for k, group in enumerate(RHYMES) for word in group}
POEM_RULES = ("title", "form", "rhyme")


def poem_form(stanzas):
    """'haiku or tercet' (stanzas of 3 lines), 'quatrain' (of 4), 'free verse' (one stanza of 6-10 lines) or
    None: the shapes poem() writes."""
    sizes = {len(s) for s in stanzas}
    if len(stanzas) >= 2 and sizes == {3} or len(stanzas) == 1 and sizes == {3}:
        return "haiku or tercet"
    if len(stanzas) >= 2 and sizes == {4}:
        return "quatrain"
    if len(stanzas) == 1 and 6 <= len(stanzas[0]) <= 10:
        return "free verse"
    return None


def _rhymes(a, b):
    return a != b and RHYME_GROUP.get(a, -1) == RHYME_GROUP.get(b, -2)


def check_poem(text):
    """{rule: passed} for one poem: a short title, then stanzas in one of the forms (every stanza 3 lines;
    quatrains; one free-verse stanza), and quatrains rhyme ABAB or AABB (words of one RHYMES group)."""
    title, _, body = text.strip("\n").partition("\n\n")
    stanzas = [[line.strip() for line in s.split("\n") if line.strip()] for s in body.split("\n\n") if s.strip()]
    form = poem_form(stanzas)
    ends = lambda s: [re.sub(r"[^a-z]", "", line.split()[-1].lower()) for line in s]
    rhymed = all(len(e) == 4 and (_rhymes(e[0], e[2]) and _rhymes(e[1], e[3]) or _rhymes(e[0], e[1]) and _rhymes(e[2], e[3]))
                 for e in map(ends, stanzas))
    return {"title": 0 < len(title) <= 50 and "\n" not in title and title[0].isupper() and len(title.split()) <= 7,
            "form": form is not None,
            "rhyme": form != "quatrain" or rhymed}
