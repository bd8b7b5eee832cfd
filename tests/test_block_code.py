"""The blocks of a long compiled program, compiled once per shape (dualad.block_code).

A block made from a code object compiled before must be the code its own text compiles to:
the same instructions, names and constants, and the same results on the same registers.
"""

import math
import random
import types

import pytest
from hypothesis import given, strategies as st

import dualad as ad
from dualad.block_code import SMALLEST_REGISTER, BlockCode, side_by_side
from dualad.compile import BLOCK_STEPS


def own_code(text):
    """The function code of ``text`` compiled on its own: the independent reference."""
    module = compile(text, "<reference>", "exec")
    return next(c for c in module.co_consts if isinstance(c, types.CodeType))


def run(code, registers):
    """Run a block's code on a copy of ``registers``; returns the registers after it."""
    out = list(registers)
    types.FunctionType(code, {"sin": math.sin, "cos": math.cos, "call": lambda *a: a[0]})(out)
    return out


def block(name, lines):
    return f"def {name}(r):\n" + "".join(f"    {line}\n" for line in lines)


def assert_same_code(made, text):
    reference = own_code(text)
    assert made.co_code == reference.co_code
    assert made.co_consts == reference.co_consts
    assert made.co_names == reference.co_names
    assert made.co_name == reference.co_name


def test_a_block_of_a_known_shape_is_reused_with_its_own_registers():
    code = BlockCode()
    texts = [block(f"block_{k}", [f"r[{base + 1}] = sin(r[{base}])",
                                  f"r[{base + 2}] = cos(r[{base}]) * r[{base + 1}]"])
             for k, base in enumerate((1000, 5000, 123456))]
    made = [code.function(text, f"<block {k}>") for k, text in enumerate(texts)]
    assert (code.compiled, code.reused) == (1, 2)
    registers = [0.1 * (k % 7) for k in range(123460)]
    for text, found, base in zip(texts, made, (1000, 5000, 123456)):
        assert_same_code(found, text)
        after = run(found, registers)
        assert after[base + 1] == math.sin(registers[base])
        assert after[base + 2] == math.cos(registers[base]) * math.sin(registers[base])
    assert made[2].co_filename == "<block 2>"


def test_small_registers_are_part_of_the_shape():
    """An unrolled loop reads its inputs (small register numbers) in every block: those
    blocks are reused, with the small registers as written."""
    code = BlockCode()
    texts = [block(f"b{k}", [f"r[{base + 1}] = r[{base}] * r[{small}]"])
             for k, (base, small) in enumerate([(1000, 3), (2000, 3), (3000, 4)])]
    made = [code.function(text, "<t>") for text in texts]
    assert (code.compiled, code.reused) == (2, 1)       # r[4] is another shape than r[3]
    registers = [float(k) for k in range(3002)]
    for text, found, (base, small) in zip(texts, made, [(1000, 3), (2000, 3), (3000, 4)]):
        assert_same_code(found, text)
        assert run(found, registers)[base + 1] == base * small


def test_which_registers_are_the_same_one_is_part_of_the_shape():
    code = BlockCode()
    first = block("a", ["r[1002] = r[1000] * r[1001]"])
    squares = block("b", ["r[2002] = r[2000] * r[2000]"])     # same text, one register twice
    code.function(first, "<a>")
    made = code.function(squares, "<b>")
    assert code.reused == 0
    assert run(made, [3.0] * 2003)[2002] == 9.0


@pytest.mark.parametrize("lines, registers_at", [
    # a literal equal to one of the template's registers would be swapped with it
    (["r[1000] = r[999] * 999"], (999, 1000)),
    # a string might spell a register
    (["r[1000] = call(r[999], 'r[999]')"], (999, 1000)),
    # small numbers may not be among the constants (Python 3.14's LOAD_SMALL_INT)
    (["r[10] = sin(r[9])"], (9, 10)),
])
def test_unsafe_blocks_are_compiled_from_their_text(lines, registers_at):
    code = BlockCode()
    shifted = [line.replace(str(registers_at[1]), "X").replace(str(registers_at[0]), "Y")
               for line in lines]
    texts = [block("a", lines),
             block("b", [s.replace("X", "2000").replace("Y", "1999") for s in shifted])]
    made = [code.function(text, "<t>") for text in texts]
    assert code.reused == 0
    for text, found in zip(texts, made):
        assert_same_code(found, text)


def test_side_by_side_makes_equal_constants_anew():
    text = block("b", ["r[1001] = r[1000] * 2.5 + r[3]", "r[1002] = r[1001] + 7"])
    code = own_code(text)
    packed = side_by_side(code)
    assert packed.co_consts == code.co_consts
    assert packed.co_code == code.co_code
    big = [(a, b) for a, b in zip(code.co_consts, packed.co_consts)
           if type(a) is int and a > 256]
    assert sorted(a for a, _ in big) == [1000, 1001, 1002]
    assert all(a is not b for a, b in big)          # made anew, to lie side by side
    registers = [0.5 * k for k in range(1003)]
    assert run(packed, registers) == run(code, registers)
    assert run(packed, registers)[1002] == 1000 * 0.5 * 2.5 + 1.5 + 7


LINE_KINDS = ["r[{o}] = sin(r[{a}])", "r[{o}] = r[{a}] * r[{b}]", "r[{o}] = r[{a}] + {c}",
              "r[{o}] = cos(r[{a}]) * (r[{b}] - r[{a}])"]


@given(st.data())
def test_random_blocks_behave_as_their_own_text(data):
    """Blocks from a few shapes at random register numbers (some small, some equal to a
    literal): each runs as its text compiled on its own does."""
    rng = random.Random(data.draw(st.integers(0, 2**32 - 1)))
    shapes = [[(rng.choice(LINE_KINDS), rng.randrange(4), rng.randrange(4), rng.choice(
        [2, 300, 1.5])) for _ in range(rng.randrange(1, 5))] for _ in range(3)]
    code = BlockCode()
    for k in range(12):
        base = rng.choice([0, 100, 250, 300, 1000, 4000])
        lines = [kind.format(o=base + 10 + j, a=base + a, b=base + b, c=c)
                 for j, (kind, a, b, c) in enumerate(rng.choice(shapes))]
        text = block(f"block_{k}", lines)
        made = code.function(text, "<t>")
        registers = [rng.uniform(-2, 2) for _ in range(base + 20)]
        assert run(made, registers) == run(own_code(text), registers)
        assert made.co_consts == own_code(text).co_consts


def test_a_long_chain_compiles_each_shape_of_block_once():
    depth = 3 * BLOCK_STEPS
    x = ad.Var(0.3)
    y = x
    for _ in range(depth):
        y = ad.sin(y)
    compiled = ad.compile(ad.Graph(y))
    assert compiled._block_code.reused > compiled._block_code.compiled
    value, derivative = compiled.value_and_grad(0.7)
    expected_value, expected = 0.7, 1.0          # the chain rule, in a loop
    for _ in range(depth):
        expected *= math.cos(expected_value)
        expected_value = math.sin(expected_value)
    assert value == pytest.approx(expected_value, rel=1e-12)
    assert derivative == pytest.approx(expected, rel=1e-9)
    assert SMALLEST_REGISTER <= BLOCK_STEPS
