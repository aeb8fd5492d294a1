"""
The words of a prompt, and the few phrasing helpers the template generators share. data.py reads the same
words to detect a prompt's domain and to score a sample's relevance; nothing here imports our other files.
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


def gerund(verb):
    """walk -> walking, write -> writing, run -> running."""
    if verb.endswith("e") and not verb.endswith("ee"):
        return verb[:-1] + "ing"
    if len(verb) <= 4 and verb[-1] in "nmpgt" and verb[-2] in "aeiou" and verb[-3] not in "aeiou":
        return verb + verb[-1] + "ing"  # run -> running, hum -> humming
    return verb + "ing"
