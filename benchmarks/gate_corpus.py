"""The turn gate's generalisation corpus: questions generated from templates, by family.

Every template belongs to a family (one sentence pattern) of one clause type. An unfinished
template marks the caller's pause with "|": the words before it cannot end the caller's sentence
("The manager says that | I can get a refund."): they are not a sentence by themselves, or they
stop inside a number, date or address being dictated ("My phone number is 0 7 7 |"). A finished
template is a whole question. Slots in
braces are filled from SLOTS with a seeded choice, so the same corpus comes out on every machine.

Fit and report are split by family: in each clause type, families alternate between the halves,
so no report utterance shares a template with a fitted one (`split_of`).
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from benchmarks.clips import Split

Label = Literal["finished", "unfinished"]
SEED = 2203
# distinct fillings drawn per template: finished templates have fewer slots, so more each
PER_TEMPLATE: dict[str, int] = {"unfinished": 5, "finished": 10}

SLOTS: dict[str, tuple[str, ...]] = {
    "item": ("order", "parcel", "refund", "invoice", "subscription", "booking", "payment"),
    "thing": ("laptop", "phone", "printer", "router", "headset", "charger", "camera", "tablet"),
    "person": (
        "the manager",
        "your colleague",
        "the courier",
        "my bank",
        "the technician",
        "my landlord",
        "the last agent",
    ),
    "say": ("says", "told me", "mentioned", "claims", "explained", "promised"),
    "city": ("Dublin", "Toronto", "Singapore", "Madrid", "Chicago", "Melbourne", "Lagos"),
    "day": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"),
    "month": ("January", "March", "April", "June", "August", "October", "December"),
    "ordinal": ("1st", "3rd", "5th", "12th", "18th", "21st", "30th"),
    "digits": ("4 5", "0 7 7", "3 1 9", "8 8", "2 0 4", "6 1", "9 3 7"),
    "street": ("Baker Street", "Park Avenue", "Elm Road", "High Street", "Mill Lane"),
    "house": ("42", "7", "118", "15", "221", "9"),
    "colour": ("black", "white", "silver", "blue", "red"),
    "plan": ("premium plan", "basic plan", "family plan", "business plan"),
    "verb": ("cancel", "change", "renew", "pause", "upgrade", "transfer"),
}


@dataclass(frozen=True)
class Family:
    """One sentence pattern: its clause type, its label, and its templates."""

    name: str
    clause: str
    label: Label
    templates: tuple[str, ...]


def _u(name: str, clause: str, *templates: str) -> Family:
    return Family(name, clause, "unfinished", templates)


def _f(name: str, clause: str, *templates: str) -> Family:
    return Family(name, clause, "finished", templates)


# Four unfinished families per clause type; in each type the first and third are fitted, the
# second and fourth reported (split_of), so every clause type is seen in both halves through
# different patterns.
FAMILIES: tuple[Family, ...] = (
    # --- unfinished: the pause comes where the sentence cannot end ---------------------------
    _u(
        "because-clause",
        "subordinate",
        "I want to {verb} my {item} because | the price went up.",
        "The {thing} is useless because | it keeps restarting.",
        "I called yesterday because | my {item} never arrived.",
    ),
    _u(
        "concessive-clause",
        "subordinate",
        "I'll keep the {item} unless | you can find a cheaper one.",
        "I returned the {thing} although | it was a gift.",
        "I paid for express delivery so that | it would arrive by {day}.",
    ),
    _u(
        "fronted-if",
        "subordinate",
        "If I {verb} my {item} today | will I still be charged?",
        "If the {thing} breaks again | can I get a new one?",
        "If I pay by card | is there a fee?",
    ),
    _u(
        "fronted-when",
        "subordinate",
        "When I open the app on my {thing} | it just freezes.",
        "Since I moved to {city} | my {item} keeps going to the old address.",
        "Once the {item} arrives | how do I check it?",
        "Before I {verb} the {plan} | can you tell me the price?",
    ),
    _u(
        "relative-that",
        "relative",
        "I bought a {thing} that | stopped working after a week.",
        "You sent me a {colour} {thing} that | is not what I ordered.",
        "I have an {item} number that | your website doesn't recognise.",
    ),
    _u(
        "relative-which",
        "relative",
        "I got an email about my {item} which | I never asked for.",
        "There is a charge on my card which | I don't recognise.",
        "I ordered the {colour} {thing} which | was out of stock.",
    ),
    _u(
        "relative-who",
        "relative",
        "I spoke to an agent who | promised me a refund.",
        "There was a courier who | left my {item} outside.",
        "I'd like to talk to someone who | can fix my {thing}.",
    ),
    _u(
        "relative-where-whose",
        "relative",
        "Is there a store in {city} where | I can pick up my {item}?",
        "I need to speak to the person whose | name is on the account.",
        "Can you give me the address of the office where | they repair the {thing}?",
    ),
    _u(
        "complement-said-that",
        "complement",
        "{person} {say} that | my {item} would be refunded.",
        "{person} {say} that | the {thing} was covered.",
    ),
    _u(
        "complement-whether",
        "complement",
        "Can you tell me whether | my {item} has shipped?",
        "I was wondering if | you deliver to {city}.",
        "Could you check whether | the {thing} is in stock?",
    ),
    _u(
        "complement-think-that",
        "complement",
        "I think that | my {item} was sent twice.",
        "I was hoping that | you could {verb} my {plan}.",
        "I was told that | the {thing} had a two year warranty.",
    ),
    _u(
        "complement-wh",
        "complement",
        "Can you explain why | my {item} was declined?",
        "I'm not sure how | to {verb} my {plan}.",
        "Could you tell me when | the {thing} will be back in stock?",
        "I'd like to know how much | the {plan} costs.",
    ),
    _u(
        "coordination-and",
        "coordination",
        "I want to change my address and | update my phone number.",
        "The {thing} is broken and | I need a replacement.",
        "I paid for the {item} and | it still says unpaid.",
    ),
    _u(
        "coordination-or",
        "coordination",
        "Should I {verb} my {plan} or | just wait until next month?",
        "Can I get a refund or | at least a voucher?",
        "I'd like to return the {thing} but | I lost the receipt.",
    ),
    _u(
        "coordination-then",
        "coordination",
        "I waited an hour and then | the call dropped.",
        "I paid twice so | I need one of them back.",
        "The {thing} overheats and also | the battery drains fast.",
    ),
    _u(
        "coordination-clause-and",
        "coordination",
        "My {item} is late and | nobody has called me.",
        "I reset the {thing} but | it still doesn't connect.",
        "You charged my card yet | the {item} never came.",
    ),
    _u(
        "preposition-goal",
        "preposition",
        "Can you send the {item} to | my work address?",
        "I'm calling about a charge for | something I didn't buy.",
        "I'd like to move my {item} to | next {day}.",
    ),
    _u(
        "preposition-source",
        "preposition",
        "I got a message from | your billing team.",
        "I have a problem with | my {thing}.",
        "There is a fee on my account from | last month.",
    ),
    _u(
        "preposition-topic",
        "preposition",
        "I want to ask about | the {plan}.",
        "Can you look into | my missing {item}?",
        "I need some information on | your returns policy.",
    ),
    _u(
        "preposition-verbal",
        "preposition",
        "I'm having trouble connecting to | the {thing}.",
        "It keeps switching between | two networks.",
        "I was charged twice for | the same {item}.",
    ),
    _u(
        "time-fronted",
        "time",
        "Every time | I call I get cut off.",
        "The last time | I ordered it took two weeks.",
        "The next time | the {thing} fails who should I call?",
    ),
    _u(
        "time-conjunction",
        "time",
        "The app crashes the moment | I open it.",
        "I'll pay as soon as | the {item} arrives.",
        "It was gone by the time | I got home.",
    ),
    _u(
        "time-each",
        "time",
        "Each time | I log in it asks for a new password.",
        "Ever since | I updated the {thing} it runs slowly.",
        "Right after | I paid the {item} was cancelled.",
    ),
    _u(
        "time-mid",
        "time",
        "The {thing} disconnects whenever | I move to another room.",
        "I get a new charge each time that | I renew the {plan}.",
        "It worked fine until | the last update.",
    ),
    _u(
        "number-phone",
        "number",
        "My phone number is {digits} | 5 5 0 1 2 3.",
        "You can call me back on {digits} | 9 8 4 4.",
    ),
    _u(
        "number-reference",
        "number",
        "The reference number is {digits} | 7 2 1.",
        "My {item} number is {digits} | 6 6 0 2.",
    ),
    _u(
        "number-card",
        "number",
        "The card ends in {digits} | 8 1.",
        "My account number is {digits} | 3 3 9 0.",
    ),
    _u(
        "number-code",
        "number",
        "The code on the screen is {digits} | 4 4.",
        "The tracking number starts with {digits} | 1 7 6.",
    ),
    _u(
        "date-month-first",
        "date",
        "My appointment is on the {ordinal} of | {month}.",
        "Can I move the delivery to {month} the | {ordinal}?",
    ),
    _u(
        "date-ordinal-first",
        "date",
        "I was born in {month} 19 | 85.",
        "The {item} was due on the {ordinal} of | {month}.",
    ),
    _u(
        "date-weekday",
        "date",
        "Can you book it for {day} the | {ordinal}?",
        "It was delivered on {day} the | {ordinal}.",
    ),
    _u(
        "date-year",
        "date",
        "My card expires in {month} 20 | 27.",
        "I opened the account in 19 | 98.",
    ),
    _u(
        "address-house",
        "address",
        "I live at {house} | {street}.",
        "Please send it to {house} | {street} in {city}.",
    ),
    _u(
        "address-postcode",
        "address",
        "My postcode is S W 1 | A 1 A A.",
        "My zip code is 9 0 | 2 1 0.",
        "The post code is E C | 2 V 7.",
    ),
    _u(
        "address-street",
        "address",
        "The new address is unit | 4 B, {house} {street}.",
        "Deliver it to {street} number | {house}.",
    ),
    _u(
        "address-unit",
        "address",
        "It's flat {house} | {street}.",
        "The building is number {house} on | {street}.",
    ),
    _u(
        "list-nouns",
        "list",
        "I need a charger, a case, | and a screen protector.",
        "I ordered the {thing}, the charger, | and the cable.",
    ),
    _u(
        "list-adjectives",
        "list",
        "It comes in {colour}, {colour}, | or green.",
        "The {thing} is slow, noisy, | and it gets hot.",
    ),
    _u(
        "list-items",
        "list",
        "I want to {verb} the {plan}, the insurance, | and the extra storage.",
        "Can you check my {item}, my balance, | and my last payment?",
    ),
    _u(
        "list-actions",
        "list",
        "I restarted it, unplugged it, | and reset it to factory settings.",
        "I tried the app, the website, | and the phone line.",
    ),
    _u(
        "opener-words",
        "opener",
        "So | I have a question about my {item}.",
        "And | another thing about the {thing}.",
        "Um | I need some help.",
        "Also | my card has expired.",
        "Because | it never arrived.",
    ),
    _u(
        "opener-phrases",
        "opener",
        "Okay so | my {thing} stopped working.",
        "Well the thing is | I was charged twice.",
        "Right so basically | the {item} is late.",
        "I mean | it worked yesterday.",
        "And also | I need a receipt.",
    ),
    # --- finished: whole questions and requests ---------------------------------------------
    _f(
        "short-answer",
        "answer",
        "Yes.",
        "No.",
        "Okay.",
        "Sure.",
        "Thanks.",
        "Yes please.",
        "No thanks.",
        "Billing.",
    ),
    _f(
        "backchannel",
        "answer",
        "Mm-hm.",
        "Uh-huh.",
        "Yeah.",
        "Right.",
        "Alright.",
        "Got it.",
        "Great.",
        "Perfect.",
    ),
    _f(
        "wh-question",
        "question",
        "How much does the {plan} cost?",
        "Where is my {item}?",
        "When will my {thing} arrive?",
    ),
    _f(
        "yes-no",
        "question",
        "Do you deliver to {city}?",
        "Is the {colour} {thing} in stock?",
        "Can I {verb} my {plan} online?",
    ),
    _f(
        "wh-question-long",
        "question",
        "Why was my card charged twice for the same {item}?",
        "What time does the store in {city} open on {day}?",
        "How long does a refund usually take?",
    ),
    _f(
        "yes-no-long",
        "question",
        "Could you send me a copy of the invoice?",
        "Is there a discount if I pay for a year?",
        "Does the {plan} include international calls?",
    ),
    _f(
        "request-verb",
        "request",
        "I need to {verb} my {item}.",
        "I'd like to {verb} my {plan}.",
        "Please {verb} my {item}.",
    ),
    _f(
        "problem-statement",
        "request",
        "My {thing} won't turn on.",
        "The {item} hasn't arrived yet.",
        "I was charged twice this month.",
    ),
    _f(
        "request-object",
        "request",
        "Can you resend the confirmation email?",
        "I want a refund for the {thing}.",
        "Please cancel the extra charge.",
    ),
    _f(
        "problem-adverb",
        "request",
        "The {thing} keeps disconnecting all the time.",
        "My {item} arrived late again.",
        "The app crashes every day.",
    ),
    _f(
        "stranded",
        "stranded",
        "What is this charge for?",
        "Which {plan} am I on?",
        "Who should I talk to?",
    ),
    _f(
        "stranded-long",
        "stranded",
        "Which address was the {item} sent to?",
        "What is the extra fee for?",
        "Who is the {item} addressed to?",
    ),
    _f(
        "particle",
        "stranded",
        "Can you turn it off?",
        "How do I sign up?",
        "The {thing} keeps cutting out.",
    ),
    _f(
        "particle-long",
        "stranded",
        "I want to log out.",
        "How do I set it up?",
        "Can you look it up?",
    ),
    _f(
        "finished-complement",
        "complement",
        "I think so.",
        "I don't know why it stopped.",
        "Can you tell me what happened?",
    ),
    _f(
        "finished-complement-that",
        "complement",
        "I was told that it would be free.",
        "Can you confirm that the {item} was cancelled?",
        "I'm sure that I paid.",
    ),
    _f(
        "finished-relative",
        "relative",
        "Is this the {thing} that you sent?",
        "I want the one that is cheaper.",
        "Can I speak to the agent who helped me?",
    ),
    _f(
        "finished-subordinate",
        "subordinate",
        "Can I cancel if I change my mind?",
        "Will it work when I travel to {city}?",
        "I called because my {item} is late.",
    ),
    _f(
        "finished-coordination",
        "coordination",
        "I want to {verb} my {item} and get a refund.",
        "Can I pay now or later?",
        "It's broken and I want a new one.",
    ),
    _f(
        "finished-time",
        "time",
        "It stopped working last {day}.",
        "Can you call me back tomorrow morning?",
        "I ordered it two weeks ago.",
    ),
    _f(
        "finished-number",
        "number",
        "My {item} number is 4 5 7 2 1.",
        "I was charged 40 dollars.",
        "My phone number is 5 5 5 0 1 2 3 4.",
    ),
    _f(
        "finished-date",
        "date",
        "Can I book an appointment for {day}?",
        "My birthday is on the {ordinal} of {month}.",
        "The delivery was due on {month} {ordinal}.",
    ),
    _f(
        "finished-address",
        "address",
        "I live at {house} {street}.",
        "Please send it to my home address.",
        "I moved to {city} last month.",
    ),
    _f(
        "finished-list",
        "list",
        "I need a charger, a case and a cable.",
        "It comes in {colour}, {colour} and green.",
        "I tried the app, the website and the phone line.",
    ),
)

_SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Utterance:
    """One generated question: what the caller says up to the pause, and all of it."""

    family: str
    clause: str
    label: Label
    # the words before the pause (unfinished) or the whole question (finished)
    heard: str
    # the whole question, for speaking it
    whole: str
    split: Split

    @property
    def name(self) -> str:
        """A stable identifier: family and the words heard."""
        return f"{self.family}:{self.heard}"


def split_of(family: Family) -> Split:
    """Unfinished families alternate fit, report within their clause type; finished ones (a
    clause type may have only one) alternate in FAMILIES order."""
    same = [
        f
        for f in FAMILIES
        if f.label == family.label and (f.label == "finished" or f.clause == family.clause)
    ]
    return "fit" if same.index(family) % 2 == 0 else "report"


def _fillings(template: str, rng: random.Random, n: int) -> list[str]:
    """Up to n distinct fillings of a template's slots (each repeated slot distinct)."""
    slots = _SLOT.findall(template)
    if not slots:
        return [template]
    choices = [SLOTS[s] for s in slots]
    combos = [c for c in itertools.product(*choices) if len(set(c)) == len(c)]
    rng.shuffle(combos)
    out = []
    for combo in combos[:n]:
        values = iter(combo)
        out.append(_SLOT.sub(lambda _m, v=values: next(v), template))
    return out


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@cache
def utterances() -> tuple[Utterance, ...]:
    """The whole corpus, in FAMILIES order, the same on every run."""
    rng = random.Random(SEED)
    out: list[Utterance] = []
    seen: set[str] = set()
    for family in FAMILIES:
        split = split_of(family)
        for template in family.templates:
            for text in _fillings(template, rng, PER_TEMPLATE[family.label]):
                before, bar, after = text.partition("|")
                heard = _clean(before).rstrip(",")
                whole = _clean(f"{before} {after}") if bar else _clean(text)
                if heard in seen:
                    continue
                seen.add(heard)
                out.append(Utterance(family.name, family.clause, family.label, heard, whole, split))
    return tuple(out)


def of_split(split: Split) -> tuple[Utterance, ...]:
    """The utterances of one half."""
    return tuple(u for u in utterances() if u.split == split)
