"""
The words of a prompt: which domain it names (detect_domain, with each domain's keywords), the word forms
that scoring a sample's relevance matches, and the few phrasing helpers the template generators share.
Nothing here imports our other files.
"""
import functools
import re

# People in every domain's documents (a recipe's "Mia's", a poem's title, a guide's author, a story's hero),
# by the pronoun each takes
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


def steer(rng, words, options, keep=0.85):
    """Prefer the options the prompt's words name (most of the time), else any option."""
    named = [o for o in options if o.lower() in words]
    return rng.choice(named) if named and rng.random() < keep else rng.choice(options)


def joined(items):
    """'a', 'a and b', 'a, b and c': a list as a sentence names it."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def gerund(verb):
    """walk -> walking, write -> writing, run -> running."""
    if verb.endswith("e") and not verb.endswith("ee"):
        return verb[:-1] + "ing"
    if len(verb) <= 4 and verb[-1] in "nmpgt" and verb[-2] in "aeiou" and verb[-3] not in "aeiou":
        return verb + verb[-1] + "ing"  # run -> running, hum -> humming
    return verb + "ing"


# -----------------------------------------------------------------------------
# domain detection

# Hand-curated keywords per domain. Matching is on lower-case words with simple suffixes stripped
# ("recipes" -> "recipe", "baking" -> "bake"), so one entry covers its plural and verb forms.
DOMAIN_KEYWORDS = {
    "cooking": """cook cooking cookery recipe food dish meal kitchen bake chef cuisine dinner lunch breakfast
        brunch supper dessert soup salad pasta bread cake cookie biscuit snack ingredient spice vegan vegetarian
        grill roast fry stew curry sauce noodle rice sushi pizza taco burrito flavor flavour tasty delicious menu
        restaurant eat cocktail smoothie pastry dough vegetable meat chicken beef pork fish seafood tofu spicy
        savory savoury culinary appetizer barbecue bbq ramen dumpling pie muffin pancake sandwich burger salsa
        marinade braise simmer boil steam stir-fry stirfry casserole foodie gourmet homemade lasagna risotto
        chocolate sweet baker bakery grocery lunchbox""",
    "poetry": """poem poetry poet verse haiku sonnet limerick rhyme stanza lyric ballad ode tanka couplet
        quatrain metaphor muse literary creative song songwriter rhythm meter elegy epic poetic villanelle
        acrostic prose romantic lyrical imagery spoken-word slam rhyming bard""",
    "technical": """code coding program programming programmer software python javascript typescript java rust
        golang linux unix bash shell command terminal api database sql server network docker kubernetes git
        compiler algorithm debug bug function script developer computer technical technology tech engineering
        engineer devops cloud deploy deployment install configuration config tutorial documentation cli http
        html css framework library backend frontend sysadmin regex json yaml nginx postgres mysql sqlite
        troubleshoot troubleshooting how-to howto kernel github repository repo""",
    # not a template domain: its documents are problems with checked solutions (problems.py)
    "math": """math maths mathematics mathematical arithmetic algebra algebraic equation calculus geometry
        fraction percentage percent numeracy gsm8k addition subtraction multiplication division""",
    # the templates' children's stories; a prompt matching nothing gets them too, with a warning (UNMATCHED_NOTE)
    "general": """story stories storyteller storytelling tale fairy fairytale bedtime fable children child kid
        kids toddler tinystories picture-book""",
}
# Keywords in scripts without spaces (Japanese) match as substrings of the prompt.
DOMAIN_KEYWORDS_SUBSTRING = {
    "cooking": ["料理", "レシピ"],
    "poetry": ["詩", "ポエム", "創作"],
    "technical": ["技術", "プログラム"],
    "math": ["数学", "算数", "計算"],
}
DOMAIN_WORDS = {d: set(w.split()) for d, w in DOMAIN_KEYWORDS.items()}


# What a run whose prompt names no domain trains on, said before it starts (data.py, train.py's questions)
UNMATCHED_NOTE = ("no template domain matches this prompt, so the offline templates will write children's "
                  "stories (a named child, a small problem, a happy ending), not text about your topic. For this "
                  "topic use a teacher model (generation_method='ollama' or 'openai') or your own text "
                  "(sources='files:PATH'); for recipes, poems, how-to guides or stories, say so in the prompt.")


def detect_domain(prompt):
    """(domain, matched_words): the domain whose keywords the prompt uses most; 'general' when none."""
    hits = {d: [] for d in DOMAIN_WORDS}
    for word in prompt_words(prompt):
        for domain, words in DOMAIN_WORDS.items():
            if any(f in words for f in word_forms(word)):
                hits[domain].append(word)
    for domain, keys in DOMAIN_KEYWORDS_SUBSTRING.items():
        hits[domain] += [k for k in keys if k in prompt]
    best = max(hits, key=lambda d: len(hits[d]))  # ties go to the earlier domain in DOMAIN_KEYWORDS
    if not hits[best]:
        return "general", []
    return best, hits[best]
