"""Pseudonymous handles such as "SteadyHeron42": memorable, unrelated to the real name."""

from __future__ import annotations

import secrets
from random import Random

ADJECTIVES = (
    "Able Agile Amber Ample Arctic Astute Azure Bold Brave Bright Brisk Calm Candid Careful Cedar "
    "Civic Clear Clever Coastal Cobalt Crisp Curious Deft Eager Earnest Even Fair Fleet Frank "
    "Gentle Golden Grand Hardy Honest Humble Ivory Jade Keen Kind Lively Loyal Lucid Lunar Mellow "
    "Mindful Modest Noble Nimble Patient Plain Polar Prime Quiet Rapid Ready Sage Serene Sharp "
    "Silver Sincere Solid Spruce Steady Sterling Stoic Sunny Swift Tidy True Valiant Vivid Warm "
    "Wise Witty Zesty"
).split()
NOUNS = (
    "Albatross Alder Aspen Badger Beacon Birch Bison Brook Cedar Comet Condor Cove Crane Dolphin "
    "Eagle Ember Falcon Fern Finch Fjord Fox Gannet Glacier Grove Harbor Hawk Heron Ibis Juniper "
    "Kestrel Lark Linden Lynx Maple Marten Meadow Merlin Mesa Orca Osprey Otter Owl Pelican Pine "
    "Plover Quail Raven Reef Ridge River Robin Sequoia Sparrow Spruce Summit Swan Tern Thrush "
    "Tundra Valley Walrus Willow Wren Yarrow"
).split()


def make_handle(rng: Random | None = None) -> str:
    choose = rng.choice if rng is not None else secrets.choice
    number = rng.randrange(10, 1000) if rng is not None else secrets.randbelow(990) + 10
    return f"{choose(ADJECTIVES)}{choose(NOUNS)}{number}"


def unique_handle(taken: set[str], rng: Random | None = None) -> str:
    for _ in range(1000):
        handle = make_handle(rng)
        if handle not in taken:
            taken.add(handle)
            return handle
    raise RuntimeError("could not find a free handle")
