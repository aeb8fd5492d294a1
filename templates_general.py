"""
Offline short stories and dialogues in the style of TinyStories (templates.py): a named character, a
place, a problem and how it ends. Prompt words pick kinds of characters and places.
"""
import re

from words import BOY_NAMES, GIRL_NAMES, steer


# A character, a place, a problem, a resolution. Names (with the pronoun each takes) come first in most
# openers, so the long name lists of words.py are what keep thousands of stories from starting alike.
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
         "{parent} heard the story, laughed and gave {name} a warm hug.",
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


def story(rng, words):
    girl = rng.random() < 0.5
    name = rng.choice(GIRL_NAMES if girl else BOY_NAMES)
    friend = rng.choice(GIRL_NAMES + BOY_NAMES)
    while friend == name:
        friend = rng.choice(GIRL_NAMES + BOY_NAMES)
    kind = steer(rng, words, KINDS)
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


# -----------------------------------------------------------------------------
# the rules every story above obeys, as a check of any text (a trained model's samples)

GIRLS, BOYS = set(GIRL_NAMES), set(BOY_NAMES)
STORY_RULES = ("named_character", "same_person", "ending")


def check_story(text):
    """{rule: passed} for one story: its first sentence names the hero, who is named again later; the
    pronouns (she/her or he/him/his) are the hero's throughout and no more than one other child is named
    (the friend); the last sentence is finished."""
    first_sentence = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    names = [w for w in re.findall(r"\b[A-Z][a-zé]+\b", text) if w in GIRLS or w in BOYS]
    unquoted = re.sub(r'"[^"\n]*"', "", first_sentence)  # '"Hi, Ana!" called Leo.': Leo is the hero
    hero = next((w for w in re.findall(r"\b[A-Z][a-zé]+\b", unquoted) if w in GIRLS or w in BOYS), None)
    pronouns = {p.lower() for p in re.findall(r"\b(?:[Ss]he|[Hh]er|[Hh]e|[Hh]im|[Hh]is)\b", text)}
    hers = hero in GIRLS
    return {"named_character": hero is not None and hero in first_sentence and names.count(hero) >= 2,
            "same_person": hero is not None and len(set(names)) <= 2
                           and pronouns <= ({"she", "her"} if hers else {"he", "him", "his"}),
            "ending": len(re.findall(r"[.!?]", text)) >= 3 and re.search(r"[.!?][\"”]?$", text.strip()) is not None}
