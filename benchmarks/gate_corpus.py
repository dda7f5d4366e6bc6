"""The turn gate's generalisation corpus: questions generated from templates, by family.

Every template belongs to a family (one sentence pattern) of one clause type. An unfinished
template marks the caller's pause with "|": the words before it cannot end the caller's sentence
("The manager says that | I can get a refund."): they are not a sentence by themselves, or they
stop inside a number, date or address being dictated ("My phone number is 0 7 7 |"). A finished
template is a whole question. Slots in braces are filled from SLOTS with a seeded choice, so the
same corpus comes out on every machine.

Fit and report are split by family: FITTED_FAMILIES are fitted, and FRESH_FAMILIES, written
after the gate's features were last revised and before anything scored them, are reported, so no
report utterance shares a template with a fitted one and none was seen while the gate was
designed (`split_of`). Every clause type is in both halves, through different patterns. A report
batch is measured once; the next revision of the features fits it and brings a fresh batch.
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
    # the fresh families' own fillers: other services, places and papers than the first 66
    "service": ("broadband", "electricity", "mobile contract", "insurance", "gym membership"),
    "place": ("branch", "clinic", "hotel", "airport", "pharmacy", "office"),
    "paper": ("statement", "prescription", "boarding pass", "policy document", "receipt"),
    "name": ("Anna", "David", "Priya", "Tom", "Fatima", "Lucas"),
    "amount": ("20", "35", "120", "250", "75", "49"),
    # ...and the second fresh batch's
    "account": ("savings account", "joint account", "credit card", "loyalty card", "student loan"),
    "trip": ("flight", "train ticket", "hotel room", "rental car", "ferry crossing"),
    "fixer": ("plumber", "engineer", "dentist", "doctor", "driver"),
    # ...and the third's
    "pet": ("dog", "cat", "rabbit", "parrot"),
    "course": ("evening class", "swimming course", "language course", "training programme"),
    "device": ("television", "smart speaker", "games console", "dishwasher"),
    # ...and the fourth's
    "claim": ("claim", "complaint", "application", "appeal"),
    "bag": ("suitcase", "backpack", "pushchair", "golf bag"),
    "med": ("inhaler", "antibiotics", "insulin", "eye drops"),
    # ...and the fifth's
    "repair": ("boiler", "washing machine", "fridge", "shower", "heater"),
    "ticket": ("concert ticket", "match ticket", "season pass", "theatre booking"),
    # ...and the sixth's
    "car": ("car", "van", "motorbike", "camper van"),
    "part": ("clutch", "exhaust", "battery", "gearbox", "radiator"),
    "bill": ("council tax bill", "water bill", "phone bill", "parking fine"),
    # ...and the seventh's
    "furniture": ("sofa", "wardrobe", "bookcase", "dining table", "desk"),
    "kid": ("my son", "my daughter", "my niece", "my grandson"),
    "room": ("kitchen", "bedroom", "living room", "hallway"),
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


# The families the gate was first designed on: every one is in the fit half (split_of).
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

# The first fresh families, written on 2026-12-04 after the features were revised on FAMILIES and
# before any gate scored them, with other services, places and papers in their slots. They were
# the report half for one measurement (docs/benchmarks.md), and have been fitted since.
FIRST_FRESH_FAMILIES: tuple[Family, ...] = (
    # --- unfinished ------------------------------------------------------------------------
    _u(
        "fresh-while-clause",
        "subordinate",
        "My {thing} shut down while | I was updating it.",
        "The payment failed even though | I had money in the account.",
        "I'm calling now since | the {place} is closed.",
        "I want to switch my {service} provider unless | you can lower the price.",
    ),
    _u(
        "fresh-fronted-clause",
        "subordinate",
        "Although I cancelled the {service} last month | I was still charged.",
        "Unless you can fix it today | I want my money back.",
        "As soon as I got the {paper} | I noticed a mistake.",
        "Whenever I try to print the {paper} | the page is blank.",
    ),
    _u(
        "fresh-purpose-clause",
        "subordinate",
        "I need it fixed before | I fly to {city}.",
        "I'm calling in case | the {paper} got lost in the post.",
        "I left the {place} early so | I wouldn't miss the train.",
    ),
    _u(
        "fresh-relative-subject",
        "relative",
        "The {thing} that | you recommended keeps crashing.",
        "The nurse who | called me yesterday said to ring back.",
        "The {paper} which | arrived this morning has the wrong name.",
    ),
    _u(
        "fresh-relative-object",
        "relative",
        "I have a question about the bill that | came this morning.",
        "Is there anyone at the {place} who | speaks Spanish?",
        "I can't find the page where | I update my card details.",
        "There's a fee in the contract that | nobody told me about.",
    ),
    _u(
        "fresh-relative-reduced",
        "relative",
        "Do you remember the day when | I called about the {service}?",
        "I'm the customer whose | {paper} was sent to the wrong address.",
        "It's the same {thing} that | I returned last week.",
    ),
    _u(
        "fresh-complement-noticed",
        "complement",
        "I noticed that | my {service} bill went up.",
        "I'm worried that | the {paper} won't arrive in time.",
        "It says on your website that | delivery is free.",
        "{name} told me that | the {place} opens at nine.",
    ),
    _u(
        "fresh-complement-infinitive",
        "complement",
        "I'm trying to | update my billing address.",
        "I would like to | speak to a manager.",
        "I was hoping to | get an earlier appointment.",
        "I need you to | check my last payment.",
        "Is it possible to | {verb} the {service}?",
    ),
    _u(
        "fresh-complement-question",
        "complement",
        "I wanted to ask if | you could waive the fee.",
        "Do you know whether | the {place} in {city} is open on {day}?",
        "Could you let me know what | the cancellation fee is?",
        "I don't understand why | my {service} was cut off.",
    ),
    _u(
        "fresh-coordination-but",
        "coordination",
        "I tried calling the {place} but | nobody picked up.",
        "The {thing} charges fine but | it won't switch on.",
        "I logged in and | my balance was wrong.",
        "I sent the {paper} twice and | you still haven't got it.",
    ),
    _u(
        "fresh-coordination-correlative",
        "coordination",
        "I'd like either a refund or | a new {thing}.",
        "Both the {thing} and | the charger are faulty.",
        "Neither the app nor | the website lets me pay.",
        "I want to keep the {service} and | add a second line.",
    ),
    _u(
        "fresh-preposition-noun",
        "preposition",
        "I'm looking for the phone number of | your complaints team.",
        "There's a problem with the delivery of | my {paper}.",
        "I want to speak to someone in | your fraud department.",
        "I'd like a copy of | my last {paper}.",
    ),
    _u(
        "fresh-preposition-adjective",
        "preposition",
        "I've been waiting for | over an hour.",
        "I'm not happy with | the service I got at the {place}.",
        "I'm really worried about | my account.",
        "I'm interested in | the {plan} for my {service}.",
    ),
    _u(
        "fresh-time-phrase",
        "time",
        "It started around the time | I changed my password.",
        "The first time | I used it it overheated.",
        "The day after | I paid the price dropped.",
        "Any time | I try to log in it fails.",
    ),
    _u(
        "fresh-time-measure",
        "time",
        "It took almost | three weeks to arrive.",
        "I've been a customer for about | ten years.",
        "The {paper} arrived more than | a week late.",
        "I was charged twice during | the month of {month}.",
    ),
    _u(
        "fresh-number-id",
        "number",
        "My customer ID is {digits} | 0 5.",
        "The serial number on the back is {digits} | 2 2 8.",
        "My membership number starts with {digits} | 7.",
    ),
    _u(
        "fresh-number-words",
        "number",
        "I was charged three hundred and | twenty dollars.",
        "It costs {amount} pounds and | 99 pence.",
        "The last four digits are {digits} | 1 1.",
        "My policy number is A B {digits} | 6.",
    ),
    _u(
        "fresh-date-dictated",
        "date",
        "My flight is on the | {ordinal} of {month}.",
        "The contract started in | {month} last year.",
        "The renewal date is {month} | {ordinal}.",
        "I'd like to book for the week of the | {ordinal}.",
    ),
    _u(
        "fresh-date-range",
        "date",
        "I'll be away from the {ordinal} to the | {ordinal} of {month}.",
        "Can you check my statements between {month} and | {month}?",
        "The {paper} is dated {day} the {ordinal} of | {month}.",
    ),
    _u(
        "fresh-address-email",
        "address",
        "My email address is anna dot | lee at gmail dot com.",
        "You can email me at {name} at | example dot com.",
        "The billing address is {house} | {street}, {city}.",
    ),
    _u(
        "fresh-address-flat",
        "address",
        "Send the {paper} to apartment | {house} please.",
        "The delivery address is flat {house}, | {street}.",
        "I'm at the {place} on the corner of {street} and | {street}.",
    ),
    _u(
        "fresh-list-people",
        "list",
        "I'd like to add my wife, my son, | and my daughter to the plan.",
        "The box had a {thing}, a manual, | and a charger.",
        "I need help with my bill, my password, | and my contract.",
    ),
    _u(
        "fresh-list-steps",
        "list",
        "I've turned it off, turned it back on, | and it still doesn't work.",
        "I called the {place}, sent an email, | and nobody answered.",
        "I checked the app, the website, | and my emails.",
    ),
    _u(
        "fresh-opener-greeting",
        "opener",
        "Hi yes so | I'm calling about my bill.",
        "Actually | I wanted to ask about my {service}.",
        "Hello um | I have a question.",
        "Oh and | one more thing.",
        "Just quickly | can you check my balance?",
    ),
    _u(
        "fresh-opener-frame",
        "opener",
        "The thing is | my {thing} won't charge.",
        "Basically | the {paper} never came.",
        "To be honest | I'm not happy with the {service}.",
        "What happened was | the engineer never showed up.",
    ),
    # --- finished --------------------------------------------------------------------------
    _f(
        "fresh-answers",
        "answer",
        "Correct.",
        "That's right.",
        "Not really.",
        "Of course.",
        "Exactly.",
        "Maybe later.",
        "Go ahead.",
        "By email please.",
        "Sounds good.",
        "Nope.",
    ),
    _f(
        "fresh-wh-questions",
        "question",
        "What are your opening hours?",
        "How do I reset my password?",
        "Where can I find my {service} account number?",
        "Why is my bill so high this month?",
        "When does the {place} in {city} close?",
    ),
    _f(
        "fresh-yes-no",
        "question",
        "Is my {paper} on the way?",
        "Have you received my payment?",
        "Are there any fees for cancelling?",
        "Will I get a confirmation email?",
        "Can I pay for the {service} by card?",
    ),
    _f(
        "fresh-requests",
        "request",
        "I'd like to speak to a manager.",
        "Please transfer me to billing.",
        "I want to close my account.",
        "Send me a new {thing}, please.",
        "I need a copy of my {paper}.",
    ),
    _f(
        "fresh-problems",
        "request",
        "The {thing} stopped charging.",
        "My card was declined at the {place}.",
        "Nobody called me back.",
        "The website is down again.",
        "My {service} has been cut off.",
    ),
    _f(
        "fresh-stranded",
        "stranded",
        "Which {place} should I go to?",
        "What is the {plan} good for?",
        "Who do I send the {paper} to?",
        "What are we waiting for?",
        "Which account did the money come from?",
    ),
    _f(
        "fresh-particles",
        "stranded",
        "The {thing} keeps switching off.",
        "Can you sort it out?",
        "When does the offer run out?",
        "Could you write it down for me?",
        "I'd like to sign up.",
    ),
    _f(
        "fresh-complements",
        "complement",
        "I don't think so.",
        "I hope so.",
        "I'm not sure what you mean.",
        "I noticed that the price went up.",
        "I was wondering if you could help me.",
        "I'm trying to pay my {service} bill.",
        "I need you to call me back.",
    ),
    _f(
        "fresh-relatives",
        "relative",
        "Is that the {thing} you recommended?",
        "I want the plan that has more data.",
        "Can I talk to the person who called me?",
        "It's the {paper} that came yesterday.",
    ),
    _f(
        "fresh-subordinates",
        "subordinate",
        "Can I get a refund if it breaks?",
        "Let me know when it arrives.",
        "I'll wait until it's fixed.",
        "I can't log in because I forgot my password.",
    ),
    _f(
        "fresh-coordinations",
        "coordination",
        "I paid but it still says overdue.",
        "Can I keep the {thing} or do I send it back?",
        "Call me or send an email.",
        "The {place} was closed and nobody answered.",
    ),
    _f(
        "fresh-times",
        "time",
        "It has been like this since {month}.",
        "I called three times yesterday.",
        "It broke the day after it arrived.",
        "The {paper} came a week late.",
        "I've been waiting for over an hour.",
    ),
    _f(
        "fresh-numbers",
        "number",
        "My customer ID is 4 4 0 9 1 2.",
        "The total was {amount} dollars.",
        "It costs {amount} pounds a month.",
        "I was charged three hundred and twenty dollars.",
    ),
    _f(
        "fresh-dates",
        "date",
        "My flight is on {month} {ordinal}.",
        "The contract ends on the {ordinal} of {month}.",
        "Can we do next {day} instead?",
        "It was delivered on {day}.",
    ),
    _f(
        "fresh-addresses",
        "address",
        "My email is anna dot lee at gmail dot com.",
        "The billing address is {house} {street}, {city}.",
        "I live in {city} now.",
        "Send it to the {place} on {street}.",
    ),
    _f(
        "fresh-lists",
        "list",
        "I need help with my bill, my password and my contract.",
        "The box had a {thing}, a manual and a charger.",
        "I want to add my wife and my son.",
        "It's noisy, it's slow and it keeps crashing.",
    ),
)

# The second fresh batch, written on 2026-12-04 after the features were revised on FAMILIES and
# FIRST_FRESH_FAMILIES and before any gate scored them; reported once, fitted since.
SECOND_FRESH_FAMILIES: tuple[Family, ...] = (
    # --- unfinished ------------------------------------------------------------------------
    _u(
        "second-comparative",
        "subordinate",
        "It's much more expensive than | it was last year.",
        "The new {account} costs more than | the old one.",
        "It's taking longer than | you promised.",
        "I'd rather pay now than | wait for the bill.",
    ),
    _u(
        "second-fronted-clause",
        "subordinate",
        "Since the {fixer} never came | I want a refund.",
        "Now that I've moved to {city} | do I need a new {account}?",
        "Even if the {trip} is late | will I make the connection?",
        "While you're checking that | could you update my email?",
    ),
    _u(
        "second-reduced-relative",
        "relative",
        "The {fixer} I spoke to | said it was covered.",
        "The {trip} you booked for me | was cancelled.",
        "The {paper} you sent | had the wrong date.",
    ),
    _u(
        "second-relative-that",
        "relative",
        "Can you cancel the {trip} that | I booked for {day}?",
        "I'm the one whose | {account} was frozen.",
        "Is there a {fixer} near me who | can come today?",
        "I got a letter from the {place} which | said I owe money.",
    ),
    _u(
        "second-complement-seems",
        "complement",
        "It seems like | the {account} has been blocked.",
        "It looks as if | someone used my card.",
        "It turns out that | I was charged twice.",
        "The {fixer} said | it would take a week.",
    ),
    _u(
        "second-complement-object",
        "complement",
        "I want you to | cancel my {trip}.",
        "Can you help me to | change my {account}?",
        "I asked them to | send a new card.",
        "I'd like to find out how | to close my {account}.",
        "Nobody told me when | the {fixer} would come.",
    ),
    _u(
        "second-coordination-also",
        "coordination",
        "I need to change the {trip} as well as | the hotel.",
        "I want to cancel the {account} and also | get my deposit back.",
        "Can I pay part now and | the rest next month?",
    ),
    _u(
        "second-coordination-sequence",
        "coordination",
        "Not only was I charged twice but | the {trip} was cancelled too.",
        "I called on {day} and again on | {day}.",
        "The {fixer} came late and then | left without fixing it.",
    ),
    _u(
        "second-preposition-phrasal",
        "preposition",
        "I need to get rid of | the extra charge.",
        "I'm still waiting on | my refund.",
        "Can you tell me more about | the {account}?",
        "I've run out of | data.",
    ),
    _u(
        "second-preposition-compound",
        "preposition",
        "It's about the refund for | my {trip}.",
        "I'm calling on behalf of | my mother.",
        "I'd like to complain about | the {fixer}.",
        "There's been a mix up with | my {account}.",
    ),
    _u(
        "second-time-clock",
        "time",
        "The {fixer} is coming at | 3 o'clock.",
        "Can you call me back after | 5?",
        "My {trip} leaves at half past | 7.",
    ),
    _u(
        "second-time-until",
        "time",
        "I won't be home until | {day} evening.",
        "It's been broken for the last | two weeks.",
        "I was on hold from 9 until | nearly 10.",
    ),
    _u(
        "second-number-money",
        "number",
        "I was charged {amount} pounds and | 50 pence.",
        "The refund should be about | {amount} dollars.",
        "My balance shows minus | {amount}.",
    ),
    _u(
        "second-number-codes",
        "number",
        "The reference is double | 7 4.",
        "My booking code is X Y | {digits}.",
        "The flight number is B A | {digits}.",
    ),
    _u(
        "second-date-relative",
        "date",
        "Can we make it the | {ordinal} instead?",
        "It expired at the end of | {month}.",
        "I've been waiting since the | {ordinal} of {month}.",
    ),
    _u(
        "second-date-year",
        "date",
        "The policy started in {month} of | 2024.",
        "I opened the {account} back in | 2019.",
        "The warranty runs until 20 | 28.",
    ),
    _u(
        "second-address-postal",
        "address",
        "The address is {house} {street}, apartment | 3 B.",
        "It's on the {ordinal} floor of | the tower.",
        "The parcel went to number {house} instead of | number 12.",
    ),
    _u(
        "second-address-moving",
        "address",
        "I'm moving from {city} to | {city}.",
        "Please update my address to {house} | {street}.",
        "The {fixer} should come to | {house} {street}.",
    ),
    _u(
        "second-list-or",
        "list",
        "I can do {day}, {day}, | or {day}.",
        "Do you take cash, card, | or bank transfer?",
        "It could be the battery, the cable, | or the charger.",
    ),
    _u(
        "second-list-and",
        "list",
        "I've tried restarting, resetting, | and reinstalling.",
        "My name, my email, | and my phone number are all wrong.",
        "Please send the {paper}, the receipt, | and the invoice.",
    ),
    _u(
        "second-opener-discourse",
        "opener",
        "Okay look | I've been waiting for an hour.",
        "Anyway | about my {trip}.",
        "You see | the {fixer} never came.",
        "Listen | I need this fixed today.",
    ),
    _u(
        "second-opener-introduction",
        "opener",
        "Hi my name is {name} and | I'm calling about my {account}.",
        "Good morning I'm calling because | my {trip} was cancelled.",
        "Hi there so | I have a problem.",
    ),
    # --- finished --------------------------------------------------------------------------
    _f(
        "second-answers",
        "answer",
        "Absolutely.",
        "Not at the moment.",
        "That's fine.",
        "No problem.",
        "Yes that's correct.",
        "Either is fine.",
        "Later today.",
        "The second one.",
        "Just the one.",
        "Definitely not.",
    ),
    _f(
        "second-wh-questions",
        "question",
        "How much is a {trip} to {city}?",
        "What's the balance on my {account}?",
        "Which {fixer} is coming?",
        "How long will the repair take?",
        "Why was my {trip} cancelled?",
    ),
    _f(
        "second-yes-no",
        "question",
        "Do I need to bring anything?",
        "Can I change the date of my {trip}?",
        "Is the {fixer} on the way?",
        "Has my refund been processed?",
        "Would it be cheaper to pay monthly?",
    ),
    _f(
        "second-requests",
        "request",
        "I'd like to book a {trip} to {city}.",
        "Can you freeze my {account}?",
        "Please cancel my {trip}.",
        "I want to make a complaint.",
        "Book the {fixer} for {day} morning.",
    ),
    _f(
        "second-problems",
        "request",
        "My {account} has been frozen.",
        "The {fixer} never showed up.",
        "I've been overcharged.",
        "The heating isn't working.",
        "Someone used my card without permission.",
    ),
    _f(
        "second-stranded",
        "stranded",
        "Which terminal does it leave from?",
        "Who am I talking to?",
        "What did I pay for?",
        "Which {fixer} did you speak with?",
        "Where should I send it to?",
    ),
    _f(
        "second-particles",
        "stranded",
        "The {fixer} hung up.",
        "Can you check it out?",
        "I want to opt out.",
        "My phone keeps freezing up.",
        "Please call me back.",
    ),
    _f(
        "second-complements",
        "complement",
        "I think it was last week.",
        "I'm not sure.",
        "I believe so.",
        "I don't know what happened to it.",
        "It seems like a mistake.",
    ),
    _f(
        "second-relatives",
        "relative",
        "The {fixer} you sent was great.",
        "That's the {trip} I booked.",
        "I need the form that you mentioned.",
        "Is this the number I should call?",
    ),
    _f(
        "second-subordinates",
        "subordinate",
        "Call me if anything changes.",
        "I'll pay once it's delivered.",
        "I was charged although I cancelled.",
        "Can I change it before it ships?",
    ),
    _f(
        "second-coordinations",
        "coordination",
        "I'd like to change my {trip} and my hotel.",
        "It's either today or tomorrow.",
        "I called twice but nobody answered.",
        "Can you cancel it and refund me?",
    ),
    _f(
        "second-times",
        "time",
        "The {fixer} is coming at 3 o'clock.",
        "I'll be home after 5.",
        "It's been broken for two weeks.",
        "Call me in the afternoon.",
    ),
    _f(
        "second-numbers",
        "number",
        "The refund should be about {amount} dollars.",
        "My balance is {amount} pounds.",
        "The flight number is B A 2 4 7.",
    ),
    _f(
        "second-dates",
        "date",
        "I'm flying out on the {ordinal}.",
        "It expired at the end of {month}.",
        "The policy started in {month} of 2024.",
        "Can we make it the {ordinal} instead?",
    ),
    _f(
        "second-addresses",
        "address",
        "I'm moving from {city} to {city}.",
        "Please update my address to {house} {street}.",
        "It's on the third floor.",
    ),
    _f(
        "second-lists",
        "list",
        "I can do {day}, {day} or {day}.",
        "Do you take cash, card or bank transfer?",
        "I've tried restarting, resetting and reinstalling.",
    ),
)

# The third fresh batch, written on 2026-12-04 after the features were revised on every batch
# before it and before any gate scored them; reported once, fitted since.
THIRD_FRESH_FAMILIES: tuple[Family, ...] = (
    # --- unfinished ------------------------------------------------------------------------
    _u(
        "third-result-clause",
        "subordinate",
        "The {device} screen is so dim that | I can't read it.",
        "It was such a long wait at the {place} that | I gave up.",
        "I'll keep calling the {place} until | someone answers.",
        "My {pet} is unwell, which is why | I need an earlier slot.",
    ),
    _u(
        "third-fronted-condition",
        "subordinate",
        "Given that I paid in full | why is there a balance?",
        "Provided the {item} arrives by {day} | I'm happy.",
        "Whether or not you can help | I need an answer today.",
        "Assuming the {fixer} can come | what time would it be?",
    ),
    _u(
        "third-relative-subject-np",
        "relative",
        "The {course} I signed up for | starts next week.",
        "The password that I set on {day} | doesn't work.",
        "There's a clause in the contract under which | I can cancel.",
    ),
    _u(
        "third-free-relative",
        "relative",
        "What I don't understand is | why I was charged.",
        "All I want from the {place} is | a refund.",
        "The only thing that | matters is the date.",
    ),
    _u(
        "third-complement-adjective",
        "complement",
        "I'm not sure whether the {course} | is still on.",
        "I'm surprised that the {place} | never called.",
        "It's unclear if | the {course} is still running.",
        "The letter from the {place} says | I owe {amount} pounds.",
        "The {device} keeps telling me | my password is wrong.",
    ),
    _u(
        "third-coordination-so",
        "coordination",
        "The {course} was cancelled so | I want my fee back.",
        "I moved out in {month} yet | I'm still being billed.",
        "It's not the {device} but | the cable.",
        "I'd like to pay by card or maybe | by bank transfer.",
    ),
    _u(
        "third-preposition-complex",
        "preposition",
        "I'm calling from {city} regarding | my {course} application.",
        "Is there a discount on the {course} for | students?",
        "I'd like to apply for | a parking permit.",
        "I'm having problems with the login for | my account.",
    ),
    _u(
        "third-time-clause",
        "time",
        "It happens mostly in the evening when | everyone is online.",
        "The {device} was fine up until | last {day}.",
        "By the end of | the week it should be fixed.",
        "The {device} crashes about twice | a day.",
        "I've called the {place} at least | five times.",
    ),
    _u(
        "third-number-reference",
        "number",
        "My licence number is {digits} | 9 0 2.",
        "The seat number is 2 | 3 C.",
        "The fee is one hundred and | fifty dollars.",
        "It's going to cost me over | {amount} pounds.",
        "I've been charged a total of | {amount} dollars.",
    ),
    _u(
        "third-date-spoken",
        "date",
        "The appointment is on {day} the twenty | first.",
        "My visa expires on the | 30th of {month}.",
        "We're arriving on the {ordinal} and leaving on the | {ordinal}.",
        "The {course} runs from {month} to | {month}.",
    ),
    _u(
        "third-address-directions",
        "address",
        "It's the {colour} house next to | the post office.",
        "I'm in the building opposite | the station.",
        "Ring the bell for flat | {house}.",
        "Leave it with my neighbour at number | {house}.",
    ),
    _u(
        "third-list-long",
        "list",
        "I need to update my name, my address, my phone number, | and my email.",
        "It's the {device}, the remote, | and the stand.",
        "We've got two cats, a dog, | and a rabbit.",
    ),
    _u(
        "third-opener-hedge",
        "opener",
        "Honestly | it's been a nightmare.",
        "Quick question | do you open on {day}?",
        "Okay so basically | my {course} was cancelled.",
        "First of all | I was charged twice.",
        "See the thing is | my {pet} is allergic.",
    ),
    # --- finished --------------------------------------------------------------------------
    _f(
        "third-answers",
        "answer",
        "Not yet.",
        "Either way.",
        "All of them.",
        "The earlier one please.",
        "Yes that's fine.",
        "Never mind.",
        "Fair enough.",
        "Same as before.",
    ),
    _f(
        "third-questions",
        "question",
        "What time do you close on {day}?",
        "How can I update my email address?",
        "Where's the nearest {place}?",
        "Is there parking at the {place}?",
        "Can I bring my {pet}?",
        "Do you offer student discounts?",
    ),
    _f(
        "third-requests",
        "request",
        "I'd like to enrol in the {course}.",
        "Can you send me the form again?",
        "Please update my phone number.",
        "I need to reschedule my appointment.",
        "The {device} won't connect to the wifi.",
        "I was double charged.",
    ),
    _f(
        "third-stranded",
        "stranded",
        "Which form do I need to fill in?",
        "What's the fee for?",
        "Which email did you send it to?",
        "My {pet} keeps throwing up.",
        "The app keeps logging me out.",
        "Can you put me through?",
    ),
    _f(
        "third-clauses",
        "complement",
        "I'm surprised that nobody called.",
        "The letter says I owe money.",
        "What I want is a refund.",
        "The password I set yesterday doesn't work.",
        "It's fine as long as it arrives by {day}.",
        "The {course} was cancelled so I want my fee back.",
    ),
    _f(
        "third-details",
        "date",
        "It crashes about twice a day.",
        "I've called at least five times.",
        "The fee is one hundred and fifty dollars.",
        "My visa expires on the 30th of {month}.",
        "It's the house next to the post office.",
        "We've got two cats, a dog and a rabbit.",
        "Ring the bell for flat {house}.",
    ),
)

# Fresh families, fourth batch, written on 2026-12-04 after the features were revised on every
# batch before it and before any gate scored them; reported once (and again beside the fifth, by
# the same gate), fitted since.
FOURTH_FRESH_FAMILIES: tuple[Family, ...] = (
    # --- unfinished ------------------------------------------------------------------------
    _u(
        "fourth-fronted-reason",
        "subordinate",
        "Since my {bag} never arrived | I had to buy clothes.",
        "Because the {med} ran out early | I need a repeat prescription.",
        "Now that the {claim} has been approved | when will I be paid?",
        "As long as the {bag} arrives today | that's fine.",
    ),
    _u(
        "fourth-purpose-clause",
        "subordinate",
        "I need the refund for the {bag} so that | I can buy a new one.",
        "Could you call me before | the driver arrives?",
        "I'll hold the line while | you check the {claim}.",
    ),
    _u(
        "fourth-relative-subject",
        "relative",
        "The {claim} which I sent in {month} | still hasn't been answered.",
        "The pharmacist who filled my {med} prescription | gave me the wrong dose.",
        "Anyone whose {bag} was lost | should fill in the form.",
    ),
    _u(
        "fourth-relative-object",
        "relative",
        "I'd like to check the {claim} that | I submitted online.",
        "Is this the form which | I need to sign?",
        "I'm looking for the desk where | they return lost {bag}s.",
    ),
    _u(
        "fourth-complement-said",
        "complement",
        "The doctor said that | I should take two a day.",
        "I was told on the phone that | my {bag} had been found.",
        "It says here that | the {claim} was rejected.",
    ),
    _u(
        "fourth-complement-question",
        "complement",
        "Could you find out when | my {bag} will be delivered?",
        "I need to know whether | the {med} is in stock.",
        "Can you explain how | the excess is calculated?",
    ),
    _u(
        "fourth-coordination",
        "coordination",
        "I filled in the {claim} form and | sent it last week.",
        "The {med} is expensive but | I really need it.",
        "Either you refund the {bag} or | I'll make a complaint.",
    ),
    _u(
        "fourth-preposition",
        "preposition",
        "I'm calling regarding the status of | my {claim}.",
        "There's a problem with the payment for | my {med}.",
        "I need help filling in | the {claim} form.",
    ),
    _u(
        "fourth-time",
        "time",
        "My {bag} has been missing for almost | a week.",
        "I've been waiting at the desk since | nine this morning.",
        "The {claim} usually takes between | three and five days.",
    ),
    _u(
        "fourth-number",
        "number",
        "My {claim} reference is C L M | 4 4 2 1.",
        "The flight was B A 2 | 9 8.",
        "My NHS number is 4 8 5 | 7 7 3 2 1 0 9.",
        "The excess on the {claim} is two hundred and | fifty pounds.",
    ),
    _u(
        "fourth-date",
        "date",
        "The {claim} was submitted on the | {ordinal} of {month}.",
        "My {med} runs out on | {day}.",
        "I flew back on {month} the | {ordinal}.",
    ),
    _u(
        "fourth-address",
        "address",
        "Please deliver the {bag} to | {house} {street}.",
        "My postcode is B 1 | 2 A B.",
        "It's the pharmacy on the corner of | {street} and Main Road.",
    ),
    _u(
        "fourth-list",
        "list",
        "I lost my {bag}, my passport, | and my phone charger.",
        "I need the {med}, the plasters, | and some paracetamol.",
        "They asked for my name, my date of birth, | and my address.",
    ),
    _u(
        "fourth-opener",
        "opener",
        "Yeah so basically | my {bag} didn't arrive.",
        "Well the problem is | my {bag} is still missing.",
        "Um so | I have a question about my {claim}.",
        "Okay and | what about the excess?",
    ),
    # --- finished --------------------------------------------------------------------------
    _f(
        "fourth-answers",
        "answer",
        "That's great.",
        "No worries.",
        "Yes definitely.",
        "Not at all.",
        "Good idea.",
        "Thanks a lot.",
        "Okay then.",
        "Sounds perfect.",
    ),
    _f(
        "fourth-questions",
        "question",
        "When will my {bag} be delivered?",
        "Is the {med} in stock?",
        "How long does a {claim} take?",
        "Can I collect it today?",
        "Who is dealing with my {claim}?",
    ),
    _f(
        "fourth-requests",
        "request",
        "I'd like to make a {claim}.",
        "My {bag} was damaged.",
        "I need a repeat prescription.",
        "Please cancel my appointment.",
        "The {med} made me feel sick.",
    ),
    _f(
        "fourth-stranded",
        "stranded",
        "Which form should I fill in?",
        "What is this payment for?",
        "Who should I speak to about my {claim}?",
        "Can you check it out for me?",
        "I want to sign up.",
    ),
    _f(
        "fourth-clauses",
        "complement",
        "The doctor said I should rest.",
        "I was told my {bag} had been found.",
        "I need the {med} before I travel.",
        "The {claim} I sent was rejected.",
        "I know what happened.",
    ),
    _f(
        "fourth-details",
        "date",
        "My {bag} has been missing for a week.",
        "The excess is two hundred and fifty pounds.",
        "My {med} runs out on {day}.",
        "I lost my {bag}, my passport and my charger.",
        "Please deliver it to {house} {street}.",
    ),
)

# Fresh families, fifth batch, written on 2026-12-07 before any gate scored them, with the
# features and weights as they were when the fourth batch was reported; reported once (with the
# fourth), fitted since.
FIFTH_FRESH_FAMILIES: tuple[Family, ...] = (
    # --- unfinished ------------------------------------------------------------------------
    _u(
        "fifth-fronted-condition",
        "subordinate",
        "Unless the {repair} is fixed by Friday | I'll have to move out.",
        "Whenever I turn the {repair} on | it trips the fuse.",
        "Even though I paid for the {ticket} | it never arrived.",
        "In case the {ticket} doesn't arrive | who should I call?",
        "After I reset the {repair} | it stopped working altogether.",
        "Ever since the engineer came | the pipe has been leaking.",
        "Before you transfer me | can I ask one more thing?",
    ),
    _u(
        "fifth-result-purpose",
        "subordinate",
        "I'm calling in order to | book a repair for the {repair}.",
        "It was so cold last night that | the pipes froze.",
        "I moved the appointment for the {repair} so | I could be at home.",
    ),
    _u(
        "fifth-relative-subject",
        "relative",
        "The engineer whose van was parked outside | never knocked.",
        "The {ticket} I bought for my daughter | hasn't arrived.",
        "The flat above mine, which | has been empty for months, is leaking.",
        "The tickets for the show on {day} | were never sent.",
    ),
    _u(
        "fifth-relative-object",
        "relative",
        "Everything that | the landlord promised has been ignored.",
        "I want to cancel the {ticket} that | I bought last month.",
        "Is there someone who | can come out today?",
    ),
    _u(
        "fifth-complement",
        "complement",
        "My landlord insists that | the {repair} is my responsibility.",
        "I doubt whether | the engineer will turn up.",
        "I was wondering if | you could send someone about the {repair}.",
        "I'm not sure whether | the {ticket} covers parking.",
    ),
    _u(
        "fifth-coordination",
        "coordination",
        "The {repair} is leaking and | the floor is soaking wet.",
        "I can come in the morning or | after five.",
        "Not only was the {ticket} late but | it had the wrong date.",
    ),
    _u(
        "fifth-preposition",
        "preposition",
        "I'm calling on behalf of | my mother.",
        "Is there a discount on the {ticket} for | students?",
        "I'd like to speak to someone about | the {repair}.",
        "There was a charge on my account for | a {ticket} I never bought.",
    ),
    _u(
        "fifth-time",
        "time",
        "The {repair} has been broken since | last {day}.",
        "I've been on hold for over | twenty minutes.",
        "The engineer is coming sometime between | eight and twelve.",
        "I need the {repair} fixed by the end of | the week.",
    ),
    _u(
        "fifth-number",
        "number",
        "My account number is 7 7 | 4 1 9 0.",
        "The meter reading is 0 4 | 5 5 2.",
        "The code on the {ticket} is X Y | 7 7 1.",
        "The repair quote was three hundred and | twenty pounds.",
        "My booking reference starts with | K 9.",
    ),
    _u(
        "fifth-date",
        "date",
        "The show is on {day} the | {ordinal}.",
        "I moved into the flat on the | {ordinal} of {month}.",
        "The {repair} repair was booked for {month} the | {ordinal}.",
    ),
    _u(
        "fifth-address",
        "address",
        "The flat is number {house} on | {street}.",
        "My postcode is S W | 1 A 4.",
        "It's the building opposite | the station.",
    ),
    _u(
        "fifth-list",
        "list",
        "The {repair}, the toilet, | and the lights all need checking.",
        "I need two tickets for me, my wife, | and our son.",
        "Can you check the {repair}, the radiators, | and the smoke alarm?",
    ),
    _u(
        "fifth-opener",
        "opener",
        "Right so | the engineer never came.",
        "Okay so the thing is | my {repair} is still broken.",
        "So yeah basically | the {ticket} never arrived.",
        "And also | can you check the {repair}?",
    ),
    # --- finished --------------------------------------------------------------------------
    _f(
        "fifth-answers",
        "answer",
        "Fair enough.",
        "Perfect, thank you.",
        "Not yet.",
        "Of course.",
        "That works.",
        "Yes please.",
        "Sure thing.",
        "Brilliant.",
    ),
    _f(
        "fifth-questions",
        "question",
        "Why was my {ticket} cancelled?",
        "Can someone come tomorrow?",
        "Is there a charge for that?",
        "What time will the engineer arrive?",
        "Do you have anything earlier?",
    ),
    _f(
        "fifth-requests",
        "request",
        "I'd like to report a leak.",
        "My {repair} has stopped working.",
        "Please send me a confirmation email.",
        "I want to speak to a supervisor.",
        "The {repair} is making a strange noise.",
    ),
    _f(
        "fifth-stranded",
        "stranded",
        "What is the call-out fee for?",
        "Which date did you book me in for?",
        "Who am I speaking with?",
        "Can you put me through?",
        "That's what I was worried about.",
    ),
    _f(
        "fifth-clauses",
        "complement",
        "The engineer said it was fixed.",
        "I think the {repair} is broken.",
        "I don't know why it stopped.",
        "My landlord says it's my fault.",
        "I hope you can help.",
    ),
    _f(
        "fifth-details",
        "number",
        "The engineer came on the {ordinal}.",
        "The repair cost three hundred pounds.",
        "I live at {house} {street}.",
        "My reference is 4 4 9 1.",
        "Can you check the {repair}, the radiators and the smoke alarm?",
    ),
    _f(
        "fifth-statements",
        "request",
        "The {ticket} was for {day}.",
        "I've already tried turning it off and on.",
        "It happened again this morning.",
        "Nobody has called me back.",
        "I paid by card.",
    ),
)


# Fresh families, sixth batch, written on 2026-12-07 after the features were revised on the fourth
# and fifth batches and before any gate scored them; reported once, fitted since.
SIXTH_FRESH_FAMILIES: tuple[Family, ...] = (
    # --- unfinished ------------------------------------------------------------------------
    _u(
        "sixth-fronted-clause",
        "subordinate",
        "If the {part} needs replacing | how much will it cost?",
        "Once the {car} has been serviced | can you text me?",
        "Although the garage fixed the {part} | it's still making a noise.",
        "Until the {bill} is sorted | I won't pay anything.",
        "While you're looking at the {car} | could you check the tyres?",
        "Wherever I park the {car} | I get a fine.",
    ),
    _u(
        "sixth-final-conjunction",
        "subordinate",
        "I'll pay the {bill} as soon as | I get paid.",
        "The {car} broke down just after | I left the motorway.",
        "I can't drive the {car} until | it's fixed.",
        "I was charged twice for the {bill} even though | I cancelled.",
    ),
    _u(
        "sixth-relative-subject",
        "relative",
        "The mechanic who looked at my {car} | said it was fine.",
        "The {bill} that came this morning | is wrong.",
        "Everyone on my street | got the same letter.",
        "The garage next to the station | quoted me less.",
    ),
    _u(
        "sixth-relative-object",
        "relative",
        "Is that the {part} that | you replaced last time?",
        "I'd like the name of the person who | dealt with my {bill}.",
        "This is the third {bill} this year which | has been wrong.",
    ),
    _u(
        "sixth-complement",
        "complement",
        "The garage told me that | the {part} was worn.",
        "I've been informed that | my {bill} is overdue.",
        "Can you confirm whether | the {car} is ready?",
        "I'd like to find out how much | the {part} will cost.",
    ),
    _u(
        "sixth-coordination",
        "coordination",
        "The {part} was replaced but | the light is still on.",
        "I paid the {bill} online and | it still says overdue.",
        "Either the {car} is ready today or | I need a courtesy car.",
    ),
    _u(
        "sixth-preposition",
        "preposition",
        "I'm ringing about a problem with | my {car}.",
        "Can I get a refund for | the {part}?",
        "The {bill} was addressed to | my old flat.",
    ),
    _u(
        "sixth-time",
        "time",
        "The {car} has been at the garage for nearly | two weeks.",
        "I was told the {car} would be ready by | Thursday.",
        "I've been paying the {bill} every month since | 2019.",
        "The {part} started making a noise about | three days ago.",
    ),
    _u(
        "sixth-number",
        "number",
        "My registration is L K | 6 9 X Y Z.",
        "The reference on the {bill} is 5 5 | 0 1 2.",
        "The new {part} is going to cost six hundred and | forty pounds.",
        "My council tax account is 1 | 0 0 4 7.",
    ),
    _u(
        "sixth-date",
        "date",
        "The MOT on the {car} is due on the | {ordinal}.",
        "My {bill} was due on {day} the | {ordinal}.",
        "I booked the service for the {ordinal} of | {month}.",
    ),
    _u(
        "sixth-address",
        "address",
        "The garage is on | {street}.",
        "I live at number | {house}.",
        "My postcode is L 1 | 8 J Q.",
    ),
    _u(
        "sixth-list",
        "list",
        "The {part}, the wipers, | and the lights need checking.",
        "I've got the {bill}, the receipt, | and the letter here.",
        "Can you do {day}, {day}, | or next week?",
    ),
    _u(
        "sixth-opener",
        "opener",
        "Hi yes so | I'm calling about my {car}.",
        "Sorry I just | wanted to check something.",
        "Hiya um | it's about the {bill}.",
        "Okay right so | what happens next?",
    ),
    # --- finished --------------------------------------------------------------------------
    _f(
        "sixth-answers",
        "answer",
        "Cheers.",
        "Lovely, thanks.",
        "Yes that's right.",
        "No that's everything.",
        "Great stuff.",
        "Will do.",
        "Not a problem.",
        "Got it.",
    ),
    _f(
        "sixth-questions",
        "question",
        "How much will the {part} cost?",
        "When can I pick the {car} up?",
        "Is the {car} ready yet?",
        "Why has my {bill} gone up?",
        "Can I pay in instalments?",
    ),
    _f(
        "sixth-requests",
        "request",
        "I'd like to book an MOT.",
        "My {car} won't start.",
        "Please send me a breakdown of the {bill}.",
        "I need a courtesy car.",
        "The {part} is making a grinding noise.",
    ),
    _f(
        "sixth-stranded",
        "stranded",
        "Which garage is it at?",
        "Who did I speak to last time?",
        "What's this charge for?",
        "Can you look into it?",
        "That's the one I was talking about.",
    ),
    _f(
        "sixth-clauses",
        "complement",
        "The mechanic said it was safe.",
        "I think the {bill} is wrong.",
        "I'm not sure what happened.",
        "They told me the {car} was ready.",
        "I wonder if you could help.",
    ),
    _f(
        "sixth-details",
        "number",
        "The {car} is booked in for {day}.",
        "The new {part} cost six hundred and forty pounds.",
        "My registration is L K 6 9 X Y Z.",
        "I live at {house} {street}.",
        "The {part}, the wipers and the lights need checking.",
    ),
)

# Fresh families, seventh batch, written on 2026-12-07 after the features were revised on the
# sixth batch and before any gate scored them: the report half.
SEVENTH_FRESH_FAMILIES: tuple[Family, ...] = (
    # --- unfinished ------------------------------------------------------------------------
    _u(
        "seventh-fronted-clause",
        "subordinate",
        "When the removal men arrive | should I be there?",
        "If you could send the {furniture} back | that would be great.",
        "Since the {furniture} was delivered | the drawer has been stuck.",
        "Whilst I was at work | someone called about the {furniture}.",
        "As soon as {kid} gets home | I'll call you back.",
        "Whether or not the {furniture} fits | I want to keep it.",
        "Now that {kid} has started school | I need to change the pickup.",
    ),
    _u(
        "seventh-final-conjunction",
        "subordinate",
        "I'll take the {furniture} apart so | it fits through the door.",
        "Could you ring me back after | four o'clock?",
        "I won't be in unless | you come before noon.",
    ),
    _u(
        "seventh-relative-subject",
        "relative",
        "The man who delivered the {furniture} | scratched the wall.",
        "The {furniture} that arrived on {day} | is the wrong colour.",
        "The boxes in the {room} | still haven't been collected.",
        "Whoever packed the {furniture} | forgot the screws.",
    ),
    _u(
        "seventh-relative-object",
        "relative",
        "Can I speak to the driver who | brought the {furniture}?",
        "I found the receipt that | came with the {furniture}.",
        "Is this the number which | I should call?",
    ),
    _u(
        "seventh-complement",
        "complement",
        "The driver promised that | the {furniture} would come today.",
        "I'm worried that | {kid} will miss the bus.",
        "Do you know if | the {furniture} is in stock?",
        "I'd like to check whether | {kid} is registered.",
    ),
    _u(
        "seventh-coordination",
        "coordination",
        "The {furniture} was damaged and | the driver left without a word.",
        "You can leave it in the {room} or | at the front door.",
        "I rang twice yesterday but | nobody picked up.",
    ),
    _u(
        "seventh-preposition",
        "preposition",
        "I'm calling to complain about | the delivery.",
        "Can you move the appointment to | a later date?",
        "The {furniture} came without | any screws.",
    ),
    _u(
        "seventh-time",
        "time",
        "The delivery window is between | ten and two.",
        "I think {kid} has been off school since | last {day}.",
        "I've been waiting in since | eight o'clock.",
        "The van is running about | an hour late.",
    ),
    _u(
        "seventh-number",
        "number",
        "My order number is 3 3 | 1 9 8.",
        "The code for the gate is 4 | 7 7 1.",
        "The {furniture} cost four hundred and | ninety nine pounds.",
        "My card ends in 9 | 0 2.",
    ),
    _u(
        "seventh-date",
        "date",
        "We're moving out on the | {ordinal}.",
        "Term starts on {day} the | {ordinal}.",
        "The {furniture} was ordered back in | {month}.",
    ),
    _u(
        "seventh-address",
        "address",
        "The new address is flat | {house}.",
        "The {furniture} needs to go to | {house} {street}.",
        "The school is just off | {street}.",
    ),
    _u(
        "seventh-list",
        "list",
        "The {furniture}, the mattress, | and the lamp were all damaged.",
        "My son needs a coat, a bag, | and new shoes.",
        "I can do mornings, lunchtimes, | or after six.",
    ),
    _u(
        "seventh-opener",
        "opener",
        "Yeah hi so | the delivery didn't come.",
        "Right okay so | when is the van coming?",
        "Um well | it's about {kid}.",
        "So the thing is | the {furniture} doesn't fit.",
    ),
    # --- finished --------------------------------------------------------------------------
    _f(
        "seventh-answers",
        "answer",
        "Spot on.",
        "Cheers, bye.",
        "Yes, go ahead.",
        "No, that's all.",
        "Right you are.",
        "Sounds good to me.",
        "Thank you so much.",
        "Alright.",
    ),
    _f(
        "seventh-questions",
        "question",
        "Can the driver call ahead?",
        "What time is the delivery?",
        "Is {kid} on the register?",
        "How do I return the {furniture}?",
        "Where should I leave the key?",
    ),
    _f(
        "seventh-requests",
        "request",
        "I'd like to rearrange the delivery.",
        "The {furniture} arrived broken.",
        "Please take the old {furniture} away.",
        "I need to update my address.",
        "I want a full refund.",
    ),
    _f(
        "seventh-stranded",
        "stranded",
        "Which room does it go in?",
        "Who do I make the cheque out to?",
        "What did you want to talk about?",
        "Can you sort it out?",
        "That's the one I asked for.",
    ),
    _f(
        "seventh-clauses",
        "complement",
        "The driver said he was lost.",
        "I think it's the wrong size.",
        "I don't know when they're coming.",
        "My son told me the bus was late.",
        "I hope it arrives soon.",
    ),
    _f(
        "seventh-details",
        "number",
        "The delivery is booked for {day}.",
        "The {furniture} cost four hundred and ninety nine pounds.",
        "The gate code is 4 7 7 1.",
        "We're moving to {house} {street}.",
        "The {furniture}, the mattress and the lamp were damaged.",
    ),
)

# Finished families written with the seventh batch, into the fit half, so that the corpus keeps as
# many finished questions as unfinished prefixes (the fifth to seventh batches hold more of the
# latter): fitted, never reported.
FINISHED_FIT_FAMILIES: tuple[Family, ...] = (
    _f(
        "fit-finished-mixed",
        "question",
        "Can you send the {paper} to my email?",
        "My {repair} was fixed last week.",
        "Is the {place} open on {day}?",
        "I'd like to cancel my {service}.",
        "The {trip} was delayed by two hours.",
        "Could you check the status of my {claim}?",
        "We need the {fixer} to come back.",
        "I left my {bag} on the train.",
    ),
)

FRESH_FAMILIES = SEVENTH_FRESH_FAMILIES

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


# every family in the order written: each draws its slot fillings after the ones before it, so a
# new batch leaves the earlier utterances (and the keys of their speech) as they were
WRITTEN_FAMILIES = (
    *FAMILIES,
    *FIRST_FRESH_FAMILIES,
    *SECOND_FRESH_FAMILIES,
    *THIRD_FRESH_FAMILIES,
    *FOURTH_FRESH_FAMILIES,
    *FIFTH_FRESH_FAMILIES,
    *SIXTH_FRESH_FAMILIES,
    *SEVENTH_FRESH_FAMILIES,
    *FINISHED_FIT_FAMILIES,
)
# every family fitted: the first 66, the fresh batches already reported, and the finished ones
# written into the fit half
FITTED_FAMILIES = tuple(f for f in WRITTEN_FAMILIES if f not in FRESH_FAMILIES)


def split_of(family: Family) -> Split:
    """The fresh families are reported, the others fitted: no report utterance shares a template
    with a fitted one, and none was seen while the gate's features were designed."""
    return "report" if family in FRESH_FAMILIES else "fit"


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
    """The whole corpus, batch by batch (so each batch's speech keeps its keys), the same on
    every run."""
    rng = random.Random(SEED)
    out: list[Utterance] = []
    seen: set[str] = set()
    for family in WRITTEN_FAMILIES:
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
