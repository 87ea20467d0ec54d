"""The free-text grader (grader/practice/rubric.py, notation.py, chinese.py) on small rubrics written
here: notation folded, negation scope in both languages, claims bound to their subject, warnings and
quotes not read as assertions, the unsure verdict; jieba loaded only for Chinese, quietly, cached
under dlprep's cache directory; rubric proofs in `bank validate`."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from grader.bank.schema import ShortQuestion
from grader.practice import rubric
from grader.practice.notation import normalise, tables

ROOT = Path(__file__).resolve().parent.parent


def short(rubric_points, misconceptions=(), subjects=(), **extra) -> ShortQuestion:
    return ShortQuestion.model_validate({
        "id": "q", "topic": "t", "difficulty": "easy", "type": "short", "prompt": {"en": "Explain."},
        "explanation": {"en": "."}, "model_answer": {"en": "."}, "rubric": list(rubric_points),
        "misconceptions": list(misconceptions), "subjects": list(subjects), **extra,
    })


def point(text, en=(), zh=(), **extra):
    return {"point": {"en": text}, "match": {"en": list(en), "zh": list(zh)}, **extra}


def hit(question, text) -> list[str]:
    return [p.point.get("en") for p in rubric.grade(question, text).hit]


def asserts_nothing(question, *texts) -> None:
    """None of `texts` asserts a misconception of `question`."""
    for text in texts:
        assert rubric.grade(question, text).misconceptions == [], text


@pytest.mark.parametrize(("text", "folded"), [
    ("LN(x_l + Sublayer(x_l))", "ln(x+sublayer(x))"),
    ("xₗ + F(xₗ)", "x+f(x)"),
    (r"\frac{x-\mu}{\sqrt{\sigma^{2}+\epsilon}}", "(x-mu)/(sqrt(sigma^2+eps))"),
    ("(x − μ)/√(σ² + ε)", "(x-mu)/sqrt(sigma^2+eps)"),
    (r"\frac{\partial y}{\partial x} = I + \frac{\partial F}{\partial x}", "dy/dx=i+df/dx"),
    ("ＬａｙｅｒＮｏｒｍ（ｘ）", "layernorm(x)"),
    ("Layer normalisation vs batch norm; warm up the learning rate", "layernorm vs batchnorm; warmup the lr"),
    ("每个 token 的层规范化", "每个token的层归一化"),
    ("max_norm and ln_f keep their underscores", "max_norm and ln_f keep their underscores"),
    (r"\sqrt{\sigma^{2}_{b,t} + \epsilon}", "sqrt(sigma^2+eps)"),  # a subscript inside a root, after a power
    ("x_L = x_l + Σ_{i=l}^{L-1} F(x_i)", "x=x+sum f(x)"),  # a sum's bounds
    ("∂ℒ/∂x_l = ∂ℒ/∂x_L · (I + J)", "dl/dx=dl/dx*(i+j)"),  # a derivative's subscript
    ("g ← τ/‖g‖ ⊙ g ⇒ same", "g<- tau/||g||*g->same"),
    ("F ≈ 0, var + 1e-5, F → 0", "f≈0, var+eps, f->0"),
    ("the gradient w.r.t. the weights", "the gradient wrt the weights"),
    ("y equals x plus F of x, so dy/dx is I plus dF/dx; a plus sign", "y equals x+f(x), so dy/dx is i+df/dx; a plus sign"),
    ("x.pow(2).mean(-1) and (x - mu) ** 2", "x^2.mean(-1) and (x-mu)^2"),  # code spellings of a square
    ("He et al. showed it, e.g. here", "he et al showed it, eg here"),  # no sentence ends inside
    # RMSNorm's full name is RMSNorm, not layer norm; unity is 1; the error signal is the gradient
    ("Root mean square layer normalisation; values below unity", "root mean square rmsnorm; values below 1"),
    ("the error signal reaches them; 误差信号", "the gradient reaches them; 梯度"),
    ("问题 ① dim 错了 ② 没有 gamma ⑤ 中间没激活", "问题\ndim错了\n没有gamma\n中间没激活"),  # a list item each
    # single asterisks around words are emphasis; a product or *args is not
    ("worse on the *training* set; a*b*c and x * y * z; *args", "worse on the training set; a*b*c and x*y*z;*args"),
    # a table pasted onto one line gets its rows back
    ("| | Norm | Value | |---|---|---| | Direction | kept | changed | Then step.",
     "norm: direction kept.\nvalue: direction changed.\nthen step."),
    # a bare "no" answers a table's aspect; "no gamma" says what is missing in its own words
    ("| Line | Problem | Fix |\n|---|---|---|\n| (missing) | no gamma | add it |\n| x.std | no | - |",
     "(missing): problem no gamma.\n(missing): fix add it.\nx.std: no problem.\nx.std: no fix."),
])
def test_notation_is_folded_one_way(text, folded):
    assert normalise(text) == folded


def test_plain_matchers_accept_english_word_forms_from_the_word_start():
    question = short([point("subtract", en=["subtract the mean"])])
    assert hit(question, "it subtracted the means") and hit(question, "subtracting the mean")
    assert not hit(question, "it resubtracts the mean")  # no match in the middle of a word


@pytest.mark.parametrize(("text", "made"), [
    ("The direction is preserved.", True),
    ("The direction is not preserved.", False),
    ("Preserving the direction is not what it does.", False),  # a negated predicate after the phrase
    ("It never keeps the same direction.", False),
    ("It does not only scale, it also keeps the same direction.", True),  # "not only" is no negation
    ("It rescales instead of keeping the same direction.", False),
    ("方向保持不变。", True),
    ("方向并没有保持不变。", False),
    ("它不会让方向保持不变。", False),
    ("方向不一致，也就是保持不变的只有长度。", False),
])
def test_negation_in_both_languages(text, made):
    question = short([point("direction", en=["re:same direction", "re:direction is preserved", "re:preserv[a-z]* the direction"],
                            zh=["方向保持不变"])])
    assert bool(hit(question, text)) is made


def test_a_fused_negation_word_negates_only_itself():
    question = short([point("needs warm-up", zh=["需要预热"]), point("stable", zh=["稳定"])])
    assert hit(question, "训练不稳定需要预热") == ["needs warm-up"]  # 不稳定 does not reach 需要预热


def test_negation_reach_ends_at_de_and_two_negations_cancel():
    question = short([point("path", zh=["直连通路"]), point("mean", zh=["减均值"])])
    assert hit(question, "梯度有一条不经过权重的直连通路") == ["path"]
    assert hit(question, "它不省略减均值") == ["mean"]
    assert hit(question, "它省略减均值") == []


def test_a_point_made_by_denial():
    question = short([point("no re-centering", en=["skips the mean"], zh=["省去均值"],
                            denies={"en": ["subtract the mean"], "zh": ["减去均值"]})])
    for text in ("RMSNorm 不再计算和减去均值。", "It does not subtract the mean.", "It omits subtracting the mean."):
        assert hit(question, text) == ["no re-centering"], text
    assert hit(question, "It subtracts the mean.") == []


SUBJECTS = [{"name": "post-LN", "match": {"en": ["post-ln"]}}, {"name": "pre-LN", "match": {"en": ["pre-ln"]}}]
RMS_SUBJECTS = [{"name": "RMSNorm", "match": {"en": ["rmsnorm"], "zh": ["rmsnorm"]}},
                {"name": "LayerNorm", "match": {"en": ["layernorm", "layer normalization", "re:\\bln\\b"],
                                                "zh": ["layernorm", "re:\\bln\\b"]}}]


def test_a_claim_said_of_the_other_subject_is_a_swap():
    question = short([point("post: after the add", en=["re:after the add"], about="post-LN"),
                      point("pre: no warm-up", en=["without warm-up"], about="pre-LN")], subjects=SUBJECTS)
    right = rubric.grade(question, "Post-LN normalizes after the addition. Pre-LN trains without warm-up.")
    swapped = rubric.grade(question, "Pre-LN normalizes after the addition. Post-LN trains without warm-up.")
    assert right.score == 1.0 and not right.swapped
    assert swapped.score == 0.0 and [s for _, s in swapped.swapped] == ["pre-LN", "post-LN"]
    # "unlike post-LN" does not make post-LN the subject; "it" carries the last sentence's subject.
    contrast = rubric.grade(question, "Pre-LN, unlike post-LN, trains without warm-up. Post-LN is the original. "
                                      "It normalizes after the addition.")
    assert contrast.score == 1.0


def test_warnings_hypotheticals_and_quotes_do_not_assert_a_misconception():
    question = short([point("biased", en=["biased"])],
                     [{"claim": {"en": "uses Bessel"}, "match": {"en": ["bessel"]}}])
    asserts_nothing(question, "x.var() applies Bessel's correction by default, which would not match.",
                              'The article says "use Bessel\'s correction here", which is a bug.',
                              "Avoid Bessel's correction.")
    assert rubric.grade(question, "LayerNorm applies Bessel's correction.").misconceptions
    # A question posed is not a claim; an apostrophe is not a quotation mark.
    assert rubric.grade(question, "The paper wants to explain why LayerNorm applies Bessel's correction.").misconceptions == []
    assert rubric.grade(question, "That's what torch.std's default does: it applies Bessel's correction.").misconceptions


def test_unsure_on_a_long_on_topic_answer_with_few_points_only():
    question = short([point("identity", en=["identity"]), point("vanishing", en=["vanishing"])],
                     prompt={"en": "Why do residual connections help deep networks train?"},
                     model_answer={"en": "The identity path lets gradients reach early layers, easing vanishing."})
    long_on_topic = ("Residual connections help deep networks train because gradients reach the early layers "
                     "of deep networks through each residual connection, so deep networks with many layers train "
                     "and the early layers keep learning what the deep network needs.")
    assert rubric.grade(question, long_on_topic).unsure
    assert not rubric.grade(question, "Gradients reach early layers.").unsure  # short: a plain partial
    off_topic = ("Dropout zeroes random activations during training so that units cannot co-adapt, and at "
                 "evaluation time every unit is kept while the activations are rescaled to match on average.")
    assert not rubric.grade(question, off_topic).unsure
    # Every clause accounted for: a partial answer graded with confidence, however long.
    accounted = ("The identity shortcut of each residual connection carries the signal of the deep network, "
                 "and through the identity of every residual block the deep network keeps its identity path, "
                 "while the identity mapping of each residual connection stays an identity for the deep network.")
    assert not rubric.grade(question, accounted).unsure


def test_contrasts_and_verdicts_scope_a_misconception():
    question = short([point("biased", en=["biased"])],
                     [{"claim": {"en": "changes direction"}, "match": {"en": ["re:chang[a-z]* (?:the )?direction"], "zh": ["改变方向"]}}])
    for text in ("Unlike value clipping, which changes the direction, it rescales.",  # said of what it is set against
                 "不像按值裁剪那样逐元素截断会改变方向。",
                 "Clipping changes the direction, which is wrong."):  # a verdict after the claim
        assert rubric.grade(question, text).misconceptions == [], text
    # A verdict word before the claim labels it ("the bug: ..."): the claim still stands.
    assert rubric.grade(question, "The main bug: clipping changes the direction.").misconceptions


def test_words_that_state_a_misconception_make_no_point():
    question = short([point("over time", en=["re:across the time"])],
                     [{"claim": {"en": "LN over T"}, "match": {"en": ["re:should normali[sz]e[^.]{0,20}across the time"]}}])
    verdict = rubric.grade(question, "LayerNorm should normalise each channel across the time steps.")
    assert verdict.hit == [] and verdict.misconceptions


def test_a_chinese_answer_borrowing_english_terms_meets_matchers_of_both_languages():
    question = short([point("no centering", zh=["re:(?:不做|去掉)(?:减均值|中心化)"]), point("rms", en=["root mean square"])])
    assert hit(question, "RMSNorm 不做 mean centering，只用 root mean square 缩放。") == ["no centering", "rms"]


def test_chinese_negation_fused_with_a_verb_reaches_its_object_and_gaps_stop_at_a_conjunction():
    question = short([point("no bias", zh=["无偏置"], denies={"zh": ["偏置"]}), point("input", zh=["子层输入"])])
    assert hit(question, "它不带偏置。") == ["no bias"]  # 不带 negates 偏置, unlike 不变 or 不够
    assert hit(question, "子层输出与输入相加。") == [] and hit(question, "子层的输入") == ["input"]


def test_a_subject_named_as_an_object_is_not_what_the_claim_is_about():
    question = short([point("post: large gradients", en=["re:gradients[^.]{0,20}large"], about="post-LN"),
                      point("pre: no warm-up", en=["without warm-up"], about="pre-LN")], subjects=SUBJECTS)
    assert rubric.grade(question, "Pre-LN trains without warm-up. The gradients of post-LN are large.").score == 1.0
    assert rubric.grade(question, "Pre-LN differs from post-LN: it trains without warm-up.").score == 0.5
    # 前者 / the former: the first subject named before; 后者 / the latter: the last.
    assert rubric.grade(question, "Post-LN and pre-LN differ. In the former the gradients are large; "
                                  "the latter trains without warm-up.").score == 1.0
    assert rubric.grade(question, "post-LN 与 pre-LN：后者 gradients are large，前者 trains without warm-up。").swapped


def test_things_said_to_be_gone_are_denied_and_prepositional_negation_stops_at_the_verb():
    question = short([point("no bias", en=["re:no bias"], zh=["没有偏置"], denies={"en": ["bias"], "zh": ["偏置"]}),
                      point("one linear map", en=["re:just [^.]{0,20}one linear"])])
    for text in ("The mean and the bias are gone.", "The bias is dropped too.", "bias 一般也不要了。", "偏置也去掉了。"):
        assert hit(question, text) == ["no bias"], text
    assert hit(question, "The bias is kept.") == []
    # "with no nonlinearity" negates the nonlinearity, not what the sentence says of the two layers.
    assert hit(question, "Two Linears with no nonlinearity is just W2 W1 x, one linear map.") == ["one linear map"]
    assert hit(question, "No stack of layers is just one linear map.") == []


def test_a_chinese_imperative_warning_and_owner_do_not_assert():
    question = short([point("biased", zh=["有偏"])],
                     [{"claim": {"en": "unbiased", "zh": "无偏"}, "match": {"zh": ["无偏"]}}])
    assert rubric.grade(question, "方差用有偏的，别直接拿 torch.std 默认的无偏版本。").misconceptions == []
    assert rubric.grade(question, "方差用无偏估计。").misconceptions
    owned = short([point("no centering", zh=["不减均值"], about="RMSNorm")],
                  [{"claim": {"en": "centers", "zh": "减均值"}, "match": {"zh": ["减均值"]}, "about": "RMSNorm"}],
                  subjects=[{"name": "RMSNorm", "match": {"en": ["rmsnorm"]}},
                            {"name": "LayerNorm", "match": {"en": ["layernorm"]}}])
    # "keeps LayerNorm's mean subtraction" is said of RMSNorm, the subject at the head of the clause.
    assert rubric.grade(owned, "RMSNorm 保留了 LayerNorm 中的减均值操作。").misconceptions
    cut = rubric.grade(owned, "RMSNorm 就是把 LayerNorm 里 mean 那部分砍掉了：不减均值。")
    assert cut.score == 1.0 and not cut.swapped
    assert rubric.grade(owned, "这篇论文研究的是 RMSNorm 为何减均值。").misconceptions == []


def test_list_items_under_a_heading_that_takes_away_are_taken_away():
    question = short([point("no bias", en=["re:no bias"], zh=["没有偏置"], denies={"en": ["bias"], "zh": ["偏置"]})],
                     [{"claim": {"en": "has a bias", "zh": "有偏置"}, "match": {"en": ["re:\\bbias\\b"], "zh": ["偏置"]}}])
    for text in ("Left out:\n- the mean subtraction\n- the bias\nWhy: it is faster.",
                 "省去的部分：\n- 减均值\n- 偏置 β，只保留增益\n原因：更快。"):
        verdict = rubric.grade(question, text)
        assert [p.point.get("en") for p in verdict.hit] == ["no bias"] and not verdict.misconceptions, text
    # A list under any other heading, and a line that merely follows one, keep their claims.
    assert rubric.grade(question, "Kept:\n- the bias").misconceptions
    assert rubric.grade(question, "Left out:\n- the mean\nThe bias stays.").misconceptions


def test_a_condition_negated_before_jiu_and_a_contrast_with_butong_do_not_reach_the_claim():
    question = short([point("direct", zh=["直接传"])],
                     [{"claim": {"en": "elementwise", "zh": "逐元素截断"}, "match": {"zh": ["逐元素截断"]}}])
    assert hit(question, "第一项不经过任何权重层就直接传到第 l 层。") == ["direct"]
    assert hit(question, "梯度不直接传到浅层。") == []
    assert rubric.grade(question, "它只缩小长度，这一点与逐元素截断的 clip by value 不同。").misconceptions == []
    assert rubric.grade(question, "它对梯度做逐元素截断。").misconceptions


def test_about_must_name_a_subject_and_example_ranges_are_checked():
    with pytest.raises(ValidationError, match="about: 'pre-LN' is not a subject"):
        short([point("p", en=["x"], about="pre-LN")])
    with pytest.raises(ValidationError, match="low <= high"):
        short([point("p", en=["x"])], examples=[{"lang": "en", "kind": "correct", "text": "x", "score": [0.9, 0.1]}])


def test_jieba_is_loaded_only_for_chinese_quietly_and_cached_under_dlprep_home(tmp_path):
    code = textwrap.dedent("""
        import sys
        from grader.bank.catalog import load_catalog
        from grader.practice.answers import grade
        question = load_catalog().questions["res-explain-short"].question
        grade(question, "y = x + F(x): the gradient flows through the identity path.")
        print("after English:", "jieba" in sys.modules)
        print(grade(question, "梯度不会消失").points_hit[0][:4])
        print("after Chinese:", "jieba" in sys.modules)
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"DLPREP_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert proc.stdout.splitlines() == ["after English: False", "It e", "after Chinese: True"], proc.stderr
    assert proc.stderr == ""  # no "Building prefix dict" chatter
    assert (tmp_path / "cache" / "jieba.cache").is_file()


def test_bank_validate_names_a_misgraded_example_with_its_points_and_score(tmp_path):
    from grader.authoring import validate

    bank = tmp_path / "bank.yaml"
    bank.write_text(textwrap.dedent("""\
        questions:
          - id: q-res
            topic: fx
            difficulty: easy
            type: short
            prompt: {en: Why do skips help?}
            explanation: {en: .}
            rubric:
              - point: {en: identity path}
                match: {en: [identity]}
            model_answer: {en: The identity path.}
            examples:
              - {lang: en, kind: correct, text: The identity path carries the gradient.}
              - {lang: en, kind: negated, text: There is an identity path.}
        """), encoding="utf-8")
    catalog = validate.load([bank])
    assert catalog.problems == [
        f"{bank}:14: id=q-res: examples[1] (en, negated) scores 1.00, expected 0.00-0.20: "
        "hit: identity path, missed: none",
    ]
    assert any("2 graded examples in en, at least 6 wanted" in w and w.startswith(f"{bank}:12:") for w in catalog.warnings)


def test_a_markdown_table_is_read_cell_by_cell_with_its_subject():
    """A comparison table (subjects heading the columns) and a table of things by attributes
    (subjects in the first column) both bind each cell to its subject; "no" in a cell denies its row."""
    question = short([point("post: after the add", en=["re:after the (?:residual )?add"], about="post-LN"),
                      point("pre: no warm-up", en=["warmup can be removed", "no warmup"], about="pre-LN")],
                     subjects=SUBJECTS)
    by_column = ("| | Post-LN | Pre-LN |\n|---|---|---|\n| LN position | after the residual add | inside the branch |\n"
                 "| Warm-up | required | can be removed |")
    swapped = by_column.replace("| | Post-LN | Pre-LN |", "| | Pre-LN | Post-LN |")
    by_row = "| Variant | LN position | Warm-up |\n|:--|:--:|--|\n| Post-LN | after the add | needed |\n| Pre-LN | before F | no |"
    assert rubric.grade(question, by_column).score == 1.0
    assert rubric.grade(question, swapped).score == 0.0
    assert rubric.grade(question, by_row).score == 1.0
    assert tables("| a | b |\nno rule, no table") == "| a | b |\nno rule, no table"


def test_things_taken_away_after_the_thing_or_under_an_inline_heading_are_denied():
    question = short([point("no bias", en=["re:no bias"], zh=["没有偏置"], denies={"en": ["bias"], "zh": ["偏置", "减均值"]})],
                     [{"claim": {"en": "has a bias", "zh": "有偏置"}, "match": {"en": ["re:\\bbias\\b"], "zh": ["偏置", "减均值"]}}])
    for text in ("**What it leaves out:** the mean subtraction and, typically, the bias β.",
                 "**省去了什么：** 减均值这一步，通常还有偏置 β。",
                 "RMSNorm 就是把减均值那一步拿掉。"):
        verdict = rubric.grade(question, text)
        assert not verdict.misconceptions and verdict.score == 1.0, text
    assert rubric.grade(question, "**What it keeps:** the bias.").misconceptions


def test_a_sentence_ending_in_a_new_subject_and_a_colon_hands_it_on():
    question = short([point("rms: no mean", zh=["不减均值"], about="RMSNorm")],
                     subjects=[{"name": "RMSNorm", "match": {"en": ["rmsnorm"]}},
                               {"name": "LayerNorm", "match": {"en": ["layernorm"]}}])
    assert rubric.grade(question, "LayerNorm 是 (x-μ)/σ·γ+β，RMSNorm 就是：\ny = x/rms(x)·g\n不减均值。").score == 1.0
    assert rubric.grade(question, "RMSNorm 是 x/rms(x)·g，LayerNorm 就是：\ny = (x-μ)/σ\n不减均值。").score == 0.0


def test_a_negation_inside_a_condition_contradicts_nothing():
    question = short([point("rescale above c", en=["re:exceeds? (?:the )?threshold"], zh=["超过阈值"])])
    for text in ("If the norm does not exceed the threshold, nothing happens; otherwise it is rescaled.",
                 "如果范数没超过阈值，就什么都不做。"):
        verdict = rubric.grade(question, text)
        assert not verdict.contradicted, text
    assert rubric.grade(question, "The norm never exceeds the threshold.").contradicted


def test_someone_elses_view_and_a_formula_called_a_different_function_are_not_asserted():
    question = short([point("biased", en=["biased"])],
                     [{"claim": {"en": "Adam variance", "zh": "Adam 方差"}, "match": {"en": ["re:variance of adam"], "zh": ["adam方差"]}},
                      {"claim": {"en": "std + eps"}, "match": {"en": ["std+eps"]}}])
    asserts_nothing(question, "It is not the only explanation. Some papers attribute it to the variance of Adam early on.",
                              "也有人认为是 adam 方差的问题。",
                              "Writing (x - mu) / (std + eps) instead is a different function.")
    assert rubric.grade(question, "Warm-up is needed because of the variance of Adam.").misconceptions
    assert rubric.grade(question, "It is not the only explanation of warm-up. Liu et al. (RAdam) attribute it to the "
                                  "variance of Adam early on.").misconceptions == []
    assert rubric.grade(question, "这不是 warmup 的唯一解释。RAdam（Liu 等人）认为是 adam 方差太大。").misconceptions == []
    # The paper the question is about, reported: its claims are the answer's own.
    assert rubric.grade(question, "Xiong et al. attribute it to the variance of Adam.").misconceptions
    assert rubric.grade(question, "Divide by std + eps.").misconceptions


def test_a_table_read_as_sentences_stays_bounded():
    """A head repeated in every row's sentence cannot blow a 5000-character answer up (a long head
    repeated over hundreds of rows made 770 KB and 4 s of grading)."""
    text = ("| x | " + "LayerNorm normalizes " * 110 + " | y |\n|---|---|---|\n" + "|a|b|c|\n" * 800)[:5000]
    assert len(tables(text)) <= 3 * len(text) + 2000
    small = "| | LayerNorm | BatchNorm |\n|---|---|---|\n" + "| " + "aspect " * 40 + "| a | b |\n"
    assert all(len(line) < 100 for line in tables(small).splitlines())


def test_a_claim_weighed_as_a_topic_or_set_against_as_the_worse_option_is_not_asserted():
    question = short([point("rescaled", en=["same factor"], zh=["方向不变"], about="norm clipping")],
                     [{"claim": {"en": "clamps each value", "zh": "减均值"},
                       "match": {"en": ["re:each value into"], "zh": ["减均值"]}}],
                     subjects=[{"name": "norm clipping", "match": {"en": ["clip by norm"], "zh": ["按范数裁剪"]}},
                               {"name": "value clipping", "match": {"en": ["clip by value"], "zh": ["按值裁剪", "值裁剪"]}}])
    asserts_nothing(question, "Every component gets the same factor, the big advantage over clipping each value into [-c, c].",
                              "It is better than clipping each value into a range.",
                              "稳定训练主要靠缩放，减均值的作用很小。",
                              "The contribution of clipping each value into a box is small.")
    assert rubric.grade(question, "It clips each value into [-c, c].").misconceptions
    assert rubric.grade(question, "RMSNorm 还是要减均值。").misconceptions
    # A shorter name inside one named in contrast ("区别于按值裁剪" holds "值裁剪") is in contrast too.
    verdict = rubric.grade(question, "按范数裁剪：方向不变，只限制步长（区别于按值裁剪）。")
    assert verdict.score == 1.0 and not verdict.swapped
    assert rubric.grade(question, "按值裁剪：方向不变。").swapped


def test_a_self_correction_a_deviation_warning_and_what_follows_a_contrast_and_colon_are_not_asserted():
    question = short([point("biased", en=["unbiased=false"], zh=["有偏"])],
                     [{"claim": {"en": "unbiased", "zh": "无偏"}, "match": {"en": ["unbiased estimator"], "zh": ["无偏"]}},
                      {"claim": {"en": "changes direction", "zh": "改变方向"}, "match": {"en": ["changes the direction"],
                                                                                      "zh": ["改变方向"]}}])
    asserts_nothing(question, "Wait, no, I was about to say call torch.var with the defaults, but that's the unbiased estimator.",
                              "啊不对，我刚想说直接 x.var() 就行，其实它默认是无偏估计。",
                              "用默认的无偏方差会和官方实现有细微偏差。",
                              "只缩放大小。区别于按值裁剪：那是逐元素截断，会改变方向。")
    assert rubric.grade(question, "Use the unbiased estimator.").misconceptions
    assert rubric.grade(question, "按值裁剪会改变方向。").misconceptions


def test_chinese_and_english_negations_reach_as_far_as_their_words_do():
    question = short([point("no bias", en=["re:no bias"], zh=["无偏置"], denies={"en": ["bias"], "zh": ["偏置"]}),
                      point("not overfitting", en=["not overfitting"], zh=["不是过拟合"],
                            denies={"en": ["overfitting"], "zh": ["过拟合"]})],
                     [{"claim": {"en": "cosmetic", "zh": "无所谓"}, "match": {"en": ["cosmetic difference"], "zh": ["无所谓"]}}])
    assert len(rubric.grade(question, "通常亦不设加性偏置，既非过拟合所致。").hit) == 2
    assert len(rubric.grade(question, "The additive bias is customarily omitted.").hit) == 1
    # "rather than" negates its own object, not the verb after it
    assert rubric.grade(question, "Adding it to the std rather than the variance is a cosmetic difference.").misconceptions


def test_a_yes_no_question_asserts_nothing_and_answered_no_denies_what_it_asks():
    question = short([point("not overfitting", en=["not overfitting"], zh=["不是过拟合"],
                            denies={"en": ["overfitting"], "zh": ["过拟合"]})],
                     [{"claim": {"en": "overfits", "zh": "过拟合"}, "match": {"en": ["re:is overfitting"], "zh": ["是过拟合"]}}])
    for text in ("Is it overfitting? No, the training error is higher too.", "是过拟合吗？不是，训练误差也更高。"):
        verdict = rubric.grade(question, text)
        assert verdict.misconceptions == [] and verdict.score == 1.0, text
    # a wh-question presupposes what it asks; a question answered yes denies nothing
    assert rubric.grade(question, "Why is overfitting the cause? Because the model is too big.").misconceptions
    assert rubric.grade(question, "是过拟合吗？是的。").score == 0.0


def test_privatives_reach_over_inline_code_english_words_and_de_and_stay_whole_words():
    question = short([point("no centering", en=["re:no re-?cent"], zh=["不减均值"], about="RMSNorm",
                            denies={"en": ["re:re-?cent"], "zh": ["减均值", "去均值"]})],
                     [{"claim": {"en": "keeps centering", "zh": "减均值"}, "about": "RMSNorm",
                       "match": {"en": ["re:\\b(?:keeps?)\\b[^.;,]{0,25}re-?cent"], "zh": ["减均值", "去均值"]}}],
                     subjects=[{"name": "RMSNorm", "match": {"en": ["rmsnorm"], "zh": ["rmsnorm"]}},
                               {"name": "LayerNorm", "match": {"en": ["layernorm"], "zh": ["layernorm"]}}])
    for text in ("RMSNorm drops the `x - x.mean(-1, keepdim=True)` re-centering step.",
                 "RMSNorm 去掉了 `x - x.mean(-1)` 这一步去均值操作。",
                 "RMSNorm 去掉了 LayerNorm 中的去均值操作。",
                 "RMSNorm 少了减均值这一步。"):
        verdict = rubric.grade(question, text)
        assert verdict.score == 1.0 and verdict.misconceptions == [], text
    assert rubric.grade(question, "RMSNorm keeps the re-centering.").misconceptions


def test_the_latter_may_be_what_was_named_in_contrast():
    question = short([point("keeps direction", zh=["方向不变"], about="norm clipping")],
                     [{"claim": {"en": "changes direction", "zh": "改变方向"}, "about": "norm clipping",
                       "match": {"en": ["changes the direction"], "zh": ["改变方向"]}}],
                     subjects=[{"name": "norm clipping", "match": {"en": ["clip by norm"], "zh": ["按范数裁剪"]}},
                               {"name": "value clipping", "match": {"en": ["clip by value"], "zh": ["按值裁剪"]}}])
    verdict = rubric.grade(question, "按范数裁剪时方向不变（与按值裁剪不同，后者会改变方向）。")
    assert verdict.score == 1.0 and verdict.misconceptions == []


def test_markdown_headings_lines_reported_views_and_modal_negations():
    rms = short([point("no bias", en=["re:no bias"], denies={"en": ["re:\\bbias"]}, about="RMSNorm"),
                 point("cheaper", en=["one reduction"], zh=["少一次"], about="RMSNorm")],
                [{"claim": {"en": "learns the full mapping"}, "match": {"en": ["re:shortcut[^.;]{0,30}learns[^.;]{0,20}residual"]}}],
                subjects=RMS_SUBJECTS)
    # the items under a Markdown heading that takes away are taken away, as under "Left out:"
    assert len(rubric.grade(rms, "### What RMSNorm leaves out\n- **Bias β**: only a gain remains").hit) == 1
    # a matcher never spans two lines: a list item is a sentence of its own
    assert rubric.grade(rms, "- identity shortcut: y = x + F(x)\n- the block learns a residual").misconceptions == []
    assert rubric.grade(rms, "The shortcut learns the residual.").misconceptions
    # a subject named inside someone's view sets no topic for the sentences after it
    verdict = rubric.grade(rms, "RMSNorm drops the mean. Zhang 认为 LN 好用主要靠缩放。\n- 少一次 reduction")
    assert not verdict.swapped and len(verdict.hit) == 1
    unbiased = short([point("biased", zh=["有偏"])], [{"claim": {"en": "std", "zh": "std"}, "match": {"en": ["x.std("], "zh": ["x.std("]}}])
    assert rubric.grade(unbiased, "要用有偏方差，不能直接用默认无偏的 x.std()。").misconceptions == []
    assert rubric.grade(unbiased, "直接用默认的 x.std() 就行。").misconceptions


def test_the_owner_right_before_a_claim_is_its_subject():
    question = short([point("pre: no warm-up", en=["re:drop (?:the )?warmup"], about="pre-LN")],
                     [{"claim": {"en": "pre-LN needs warm-up"}, "about": "pre-LN", "match": {"en": ["need for warmup"]}}],
                     subjects=SUBJECTS)
    verdict = rubric.grade(question, "Their claim is that post-LN's need for warm-up comes from where the norm sits. "
                                     "With pre-LN you can drop warm-up.")
    assert verdict.misconceptions == [] and verdict.score == 1.0
    assert rubric.grade(question, "Their claim is that pre-LN's need for warm-up stays.").misconceptions


def test_a_usage_supposed_a_verdict_after_but_and_what_is_said_to_be_left_out():
    question = short([point("no bias", en=["re:no bias"], denies={"en": ["re:\\bbias"]})],
                     [{"claim": {"en": "std + eps", "zh": "std + eps"}, "match": {"en": ["std+eps"], "zh": ["std+eps"]}}])
    asserts_nothing(question, "Writing (x - mu) / (std + eps) looks similar but is a different function.",
                              "If you write (x - mu) / (std + eps) the check fails.",
                              "如果写成 (x-mu)/(std+eps)，就和官方实现对不上。")
    assert rubric.grade(question, "Divide by std + eps, it is simpler.").misconceptions
    assert rubric.grade(question, "So what's left out is the mean subtraction, and with it the bias term.").score == 1.0
    assert rubric.grade(question, "It keeps the mean subtraction, and with it the bias term.").score == 0.0


def test_a_consequence_told_to_the_reader_and_an_imperative_condition():
    question = short([point("pre: no warm-up", en=["re:skip the warmup", "re:without warmup"], about="pre-LN")],
                     [{"claim": {"en": "n-1"}, "match": {"en": ["re:divides by c-1"]}},
                      {"claim": {"en": "over the batch"}, "match": {"en": ["over the batch"]}}],
                     subjects=SUBJECTS)
    asserts_nothing(question, "The default torch.std divides by C-1 and you'll see a small but consistent error.",
                    "Reducing over T or over the batch is a different layer entirely.")
    assert rubric.grade(question, "The default torch.std divides by C-1, which is what we want.").misconceptions
    # "Skip the warm-up and the loss diverges", said of post-LN, is a condition: no swap
    verdict = rubric.grade(question, "Post-LN models are touchy. Skip the warm-up and the loss diverges.")
    assert not verdict.swapped
    assert rubric.grade(question, "Post-LN models are fine. You can skip the warmup.").swapped


def test_the_topic_carried_over_is_a_subject_named_at_the_head_of_its_sentence():
    rms = short([point("cheaper", en=["one reduction"], zh=["少一次"], about="RMSNorm")], [],
                subjects=RMS_SUBJECTS)
    # LayerNorm is named late in its sentence: the sentence after is still about RMSNorm
    late = ("Strictly speaking, RMSNorm keeps only the scaling. The hypothesis is that the scaling is what "
            "actually makes LayerNorm help.\n- Cost. It needs one reduction.")
    assert rubric.grade(rms, late).score == 1.0
    # named at the head of its sentence, or of a clause, it is the topic: a swap
    assert rubric.grade(rms, "RMSNorm is newer. LayerNorm is older. It needs one reduction.").swapped
    assert rubric.grade(rms, "RMSNorm is newer. In the original Transformer paper from 2017, LN is used. "
                             "It needs one reduction.").swapped
    assert rubric.grade(rms, "RMSNorm 更新。Transformer 的原始论文里用的是 LN。它少一次规约。").swapped


def test_a_belief_set_up_to_be_refuted_is_not_asserted():
    question = short([point("biased", en=["biased variance"])],
                     [{"claim": {"en": "unbiased"}, "match": {"en": ["re:unbiased estimat", "re:std\\+eps"]}},
                      {"claim": {"en": "overfitting"}, "match": {"en": ["overfit"]}},
                      {"claim": {"en": "changes direction"}, "match": {"en": ["changes direction"]}}])
    refuted = [
        "Another wrong belief is that ResNets fix overfitting.",
        "The common story is that deeper nets overfit. They do not.",
        "The author seems to believe the net overfits.",
        "Second misconception: using x.std(). That is the unbiased estimator, while LN uses the biased variance.",
        "A common mistake is to think the net overfits. Second: forgetting eps. Third: writing (x - m)/(std + eps).",
        "Direction preserved; vs clip-by-value g <- clamp(g), which changes direction.",
        "I used to assume the net overfits.",
        "You take the unbiased estimator. Actually, let me correct that: LN uses the biased variance.",
    ]
    for text in refuted:
        assert rubric.grade(question, text).misconceptions == [], text
    asserted = [
        "Xiong et al. argue the opposite of the usual story: the net overfits.",
        "The net overfits. That is why we need dropout.",
        "Use the unbiased estimator.",
        "Clip by value vs clip by norm: clipping by norm changes direction.",
        "First: compute the mean. Second: divide by (std + eps).",
        "Deeper nets overfit, never generalising.",  # "never -ing" describes; "never do X" warns
        "The net overfits. Actually, that is the main point.",
    ]
    for text in asserted:
        assert rubric.grade(question, text).misconceptions, text


def test_a_chinese_privative_the_matcher_spells_takes_away_rather_than_negates():
    question = short([point("no centering", zh=["re:把均值(?:这一项)?(?:整个)?去掉"])])
    assert rubric.grade(question, "于是把均值这一项整个去掉。").score == 1.0
    assert rubric.grade(question, "它并没有把均值去掉。").contradicted


def test_a_term_said_to_drop_out_is_not_asserted():
    question = short([point("identity term passes the gradient", en=["identity term"])])
    assert rubric.grade(question, "The identity term drops out because x is a constant.").contradicted
    assert rubric.grade(question, "The identity term passes the gradient straight down.").score == 1.0


def test_of_x_that_and_a_fronted_whereas_clause_leave_the_subject_with_the_main_clause():
    rms = short([point("no centering", en=["re:drops the re-?cent"], about="RMSNorm"),
                 point("cheaper", en=["efficiency"], about="RMSNorm")], [],
                subjects=RMS_SUBJECTS)
    verdict = rubric.grade(rms, "RMSNorm is a simplification of layer normalization that drops the re-centering. "
                                "Whereas LayerNorm subtracts the mean, RMSNorm divides by the RMS. LLaMA adopts it for efficiency.")
    assert verdict.score == 1.0 and not verdict.swapped
    # named in contrast, X is still the subject of "which ..." right after it
    assert rubric.grade(rms, "RMSNorm differs from LayerNorm, which drops the re-centering.").swapped
    assert rubric.grade(rms, "LayerNorm subtracts the mean, while RMSNorm divides by the RMS. "
                             "LayerNorm is older. It is used for efficiency.").swapped


def test_an_idiom_holding_a_negation_character_negates_nothing_after_it():
    question = short([point("passes straight back", zh=["直接传"])])
    assert rubric.grade(question, "顶层的梯度可以不打折扣地直接传到最底层。").score == 1.0
    assert rubric.grade(question, "顶层的梯度不会直接传到最底层。").contradicted


def keeps_direction(matcher: str, norm: str, value: str) -> ShortQuestion:
    """Norm clipping's "keeps the direction" point, with norm and value clipping as subjects."""
    return short([point("keeps direction", en=[matcher], about="norm clipping")], [],
                 subjects=[{"name": "norm clipping", "match": {"en": [norm]}},
                           {"name": "value clipping", "match": {"en": [value]}}])


def test_what_a_claim_is_distinguished_from_is_not_its_subject():
    question = keeps_direction("direction is kept", "clip by norm", "clipping by value")
    text = "The direction is kept, which distinguishes it from element-wise clipping by value."
    assert rubric.grade(question, text).score == 1.0
    assert rubric.grade(question, "With element-wise clipping by value the direction is kept.").swapped


def test_who_a_claim_is_about_across_comparisons_objects_and_lists():
    rms = short([point("no centering", en=["re:drops the re-?cent"], denies={"en": ["mean subtraction", "subtracting the mean"]},
                       about="RMSNorm"),
                 point("no bias", en=["re:no bias"], denies={"en": ["re:\\bbias\\b"]}, about="RMSNorm"),
                 point("cheaper", en=["fewer reductions"], about="RMSNorm")], [], subjects=RMS_SUBJECTS)
    # a pronoun after "X ..., while Y ..." means Y
    assert rubric.grade(rms, "LayerNorm centres and scales, while RMSNorm only scales. It needs fewer reductions.").hit[-1:] \
        == [rms.rubric[2]]
    # the object of "simplifies" is named, not talked about
    verdict = rubric.grade(rms, "RMSNorm (Zhang, 2019) simplifies layer normalization by having no bias.")
    assert not verdict.swapped and rms.rubric[1] in verdict.hit
    # what "removes two things:" lists is taken away; "X and Y are dropped" drops both
    assert rms.rubric[0] in rubric.grade(rms, "RMSNorm removes two things: subtracting the mean and the bias.").hit
    assert rms.rubric[0] in rubric.grade(rms, "In RMSNorm the mean subtraction and the bias are dropped.").hit
    assert rms.rubric[0] not in rubric.grade(rms, "In RMSNorm the mean subtraction and the bias are kept.").hit


def test_set_against_carried_topic_owner_after_because_and_questions_raised():
    clip = short([point("keeps direction", en=["retains its direction"], about="norm clipping")],
                 [{"claim": {"en": "clamps"}, "match": {"en": ["clamp each"]}, "about": "norm clipping"},
                  {"claim": {"en": "depends on the batch"}, "match": {"en": ["depends on the batch"]}, "about": "norm clipping"}],
                 subjects=[{"name": "norm clipping", "match": {"en": ["norm clipping"]}},
                           {"name": "value clipping", "match": {"en": ["value clipping", "element-wise clipping"]}}])
    text = "Norm clipping came later. Earlier, Mikolov applied element-wise clipping. The update retains its direction, in contrast to value clipping."
    assert rubric.grade(clip, text).score == 1.0
    assert rubric.grade(clip, "Why not just clamp each entry? That changes the direction.").misconceptions == []
    assert rubric.grade(clip, "Norm clipping is global. Because value clipping's output depends on the batch, it is noisy.").misconceptions == []
    assert rubric.grade(clip, "Norm clipping is the trick: you clamp each entry.").misconceptions
    chase = short([point("biased", en=["biased variance"])], [{"claim": {"en": "std"}, "match": {"en": ["x.std("]}}])
    assert rubric.grade(chase, "I once spent a day chasing a torch.allclose failure: someone had written x.std() + eps.").misconceptions == []
    passes = short([point("passes straight back", zh=["直接传"])])
    assert rubric.grade(passes, "顶层梯度不经过任何权重层直接传到第 l 层。").score == 1.0
    assert rubric.grade(passes, "顶层梯度不会经过恒等路径直接传到第 l 层。").contradicted


def test_a_question_raised_with_wei_he_asserts_nothing():
    question = short([point("no warm-up", zh=["去掉预热"])],
                     [{"claim": {"en": "needs warm-up", "zh": "需要预热"}, "match": {"en": ["needs warmup"], "zh": ["需要学习率预热"]}}])
    assert rubric.grade(question, "他们想回答一个问题：Transformer 训练为何需要学习率预热。").misconceptions == []
    assert rubric.grade(question, "pre-LN 仍然需要学习率预热。").misconceptions


def test_what_that_is_names_and_a_just_claim_denied_with_not_just():
    clip = keeps_direction("points the same way", "norm clipping", "value clipping")
    text = "It is not clamping each entry; that is value clipping. What it does: rescale, so the update still points the same way."
    assert rubric.grade(clip, text).score == 1.0
    just = short([point("sum", en=["re:not (?:only )?a product"])],
                 [{"claim": {"en": "just dF/dx"}, "match": {"en": ["re:derivative[^.;]{0,30}just the jacobian of f"]}}])
    assert rubric.grade(just, "The derivative is not just the Jacobian of F.").misconceptions == []
    assert rubric.grade(just, "The derivative is just the Jacobian of F.").misconceptions
    assert rubric.grade(just, "It is not only a product of matrices.").score == 1.0


def test_what_is_said_of_a_third_party_counts_for_nothing_and_needs_no_swapped_example():
    subjects = [{"name": "residual", "match": {"en": ["re:skip connections?"], "zh": ["跳跃连接"]}},
                {"name": "highway", "other": True, "match": {"en": ["re:highway networks?"], "zh": ["highway"]}}]
    question = short([point("adds", en=["x + f(x)"]), point("skip path clean", en=["re:no gates"], about="residual")],
                     [{"claim": {"en": "gated"}, "match": {"en": ["re:\\bgates?\\b"], "zh": ["门控"]}, "about": "residual"}],
                     subjects=subjects)
    before = "A skip connection outputs x + F(x) and has no gates. Highway networks came first, which used learned gates on the shortcut."
    assert rubric.grade(question, before).score == 1.0
    assert rubric.grade(question, "此前的 Highway 网络用门控。").misconceptions == []
    assert rubric.grade(question, "A skip connection multiplies its input by learned gates.").misconceptions
    # A point said of the third party is no swap, and makes nothing.
    told = rubric.grade(question, "A skip connection outputs x + F(x). Highway networks have no gates.")
    assert not told.swapped and [p.point.en for p in told.missed] == ["skip path clean"]
    # Only two subjects of its own can be swapped: this question needs no swapped example.
    from grader.authoring import rubrics as proofs
    assert not any("has subjects" in f.line for f in proofs._coverage(_loaded(question), builtin=True))
    own = short(question.model_dump()["rubric"], subjects=[subjects[0], {**subjects[1], "other": False}])
    assert any("has subjects" in f.line for f in proofs._coverage(_loaded(own), builtin=True))


def _loaded(question):
    from grader.bank.catalog import LoadedQuestion
    return LoadedQuestion(question=question, file=Path("q.yaml"), line=1)


def test_a_refutation_after_the_claim_an_apposition_a_label_sentence_and_an_explicit_statement():
    question = short([point("biased", en=["biased variance"]),
                      point("no running stats", en=["re:behaves (?:the same|identically)"], about="LN",
                            denies={"en": ["running stat"]})],
                     [{"claim": {"en": "std+eps"}, "match": {"en": ["re:std ?\\+ ?eps"]}},
                      {"claim": {"en": "running stats"}, "match": {"en": ["running stat"]}, "about": "LN"}],
                     subjects=[{"name": "LN", "match": {"en": ["layernorm"]}}, {"name": "BN", "match": {"en": ["batchnorm"]}}])
    asserts_nothing(question,
                    "People also often write (x - m) / (std + eps); that is not what PyTorch computes.",
                    "It is also sometimes assumed that it keeps running statistics; neither is true.",
                    "It is tempting to think that std + eps is equivalent. It is not.",
                    "If it fails, nine times out of ten you wrote std + eps.",
                    # named nowhere in its sentence, and stated otherwise of LayerNorm elsewhere
                    "LayerNorm behaves identically in training and eval. Everything else, the running statistics, follows from that.")
    assert rubric.grade(question, "Write (x - m) / (std + eps).").misconceptions
    assert rubric.grade(question, "LayerNorm keeps running statistics.").misconceptions
    assert rubric.grade(question, "LayerNorm normalizes each token. Everything else, the running statistics, follows from that.").misconceptions
    clip = keeps_direction("clamps each entry", "clip by norm", "clipping by value")
    # the apposition names what the claim is about: no swap
    assert not rubric.grade(clip, "Clip by norm rescales. Before, people clamps each entry to [-5, 5], which is clipping by value.").hit
    assert rubric.grade(clip, "Clip by norm rescales. Before, people clamps each entry to [-5, 5], which is clipping by value.").swapped
    pre = short([point("pre: norm first", en=["re:normali[sz]e first"], about="pre-LN")], subjects=SUBJECTS)
    assert rubric.grade(pre, "Post-LN adds then normalizes. GPT-2 does it the other way: normalize first. That's pre-LN.").score == 1.0
    assert rubric.grade(pre, "Post-LN adds then normalizes. GPT-2 does it the other way: normalize first. That's how pre-LN began.").swapped


def test_a_heading_of_what_goes_away_a_library_default_and_who_a_while_clause_or_a_subordinate_one_is_about():
    rms = short([point("no centering", en=["no centering"], about="RMSNorm", denies={"en": ["subtracting the mean"]})],
                [{"claim": {"en": "still centers"}, "match": {"en": ["subtracting the mean"]}, "about": "RMSNorm"}],
                subjects=RMS_SUBJECTS)
    for text in ("RMSNorm is simpler. Two things disappear: subtracting the mean, and the bias.",
                 "RMSNorm is simpler. Two things are dropped: subtracting the mean, and the bias."):
        verdict = rubric.grade(rms, text)
        assert verdict.score == 1.0 and not verdict.misconceptions, text
    assert rubric.grade(rms, "RMSNorm is simpler. Two things remain: subtracting the mean, and the gain.").misconceptions
    std = short([point("biased", en=["biased"])], [{"claim": {"en": "n-1"}, "match": {"en": ["re:divides by c-1", "unbiased=true"]}}])
    asserts_nothing(std, "LayerNorm's variance is biased, whereas torch.std applies Bessel's correction by default and divides by C-1.",
                    "Note that torch.std defaults to unbiased=True.")
    assert rubric.grade(std, "LayerNorm divides by C-1.").misconceptions
    ln = short([point("last dim", en=["over the channel dim"], about="LN"), point("same in eval", en=["re:\\brnns?\\b"], about="LN")],
               subjects=[{"name": "LN", "match": {"en": ["layernorm"]}}, {"name": "BN", "match": {"en": ["batchnorm"]}}])
    # a subordinate clause's subject sets no topic; nn.LayerNorm is named at the head of its clause
    text = ("LayerNorm is from 2016. It was pitched for recurrent nets, where BatchNorm was awkward. Today, "
            "matching nn.LayerNorm is easy. For each token you normalize over the channel dimension.")
    assert hit(ln, text) == ["last dim"]
    assert rubric.grade(ln, "CNNs mostly use BatchNorm, while Transformers, RNNs and ConvNeXt use LayerNorm.").swapped == []
    assert rubric.grade(ln, "CNNs mostly use LayerNorm, while Transformers, RNNs and ConvNeXt use BatchNorm.").swapped


def test_what_follows_a_supposed_question_a_chinese_default_and_a_chinese_heading_of_what_goes_away():
    var = short([point("biased", en=["unbiased=false"])],
                [{"claim": {"en": "n-1", "zh": "n-1"}, "match": {"en": ["unbiased estimate"], "zh": ["re:除以c-1"]}}])
    asserts_nothing(var, "You know what happens if you just call x.var()? You get the unbiased estimate. So pass unbiased=False.",
                    "方差要除以 C，torch.std 默认做了 Bessel 校正，会除以 C-1。")
    assert rubric.grade(var, "What do you need? The unbiased estimate.").misconceptions
    assert rubric.grade(var, "方差要除以 C-1。").misconceptions
    rms = short([point("no centering", zh=["不减均值"], about="RMSNorm", denies={"zh": ["减均值"]})],
                [{"claim": {"en": "centers", "zh": "减均值"}, "match": {"zh": ["减均值"]}, "about": "RMSNorm"}],
                subjects=RMS_SUBJECTS)
    verdict = rubric.grade(rms, "RMSNorm 相比 LayerNorm 去掉了两样东西：减均值和偏置。")
    assert verdict.score == 1.0 and not verdict.misconceptions
    assert rubric.grade(rms, "RMSNorm 相比 LayerNorm 保留了两样东西：减均值和增益。").misconceptions


def test_whether_in_chinese_and_what_candidates_get_wrong_assert_nothing():
    vanish = short([point("shrinks", zh=["缩小"])],
                   [{"claim": {"en": "above 1 vanishes", "zh": "大于1消失"}, "match": {"zh": ["re:大于1[^。；]{0,10}消失"]}}])
    asserts_nothing(vanish, "谱半径是否大于 1 直接决定是消失还是爆炸。")
    assert rubric.grade(vanish, "谱半径大于 1 直接导致消失。").misconceptions
    clip = short([point("exploding", en=["exploding"])],
                 [{"claim": {"en": "fixes vanishing"}, "match": {"en": ["re:solves? vanishing"]}}])
    asserts_nothing(clip, "One thing candidates get wrong: they say clipping solves vanishing gradients too.")
    # "gets wrong" said of something else is no warning
    assert rubric.grade(clip, "Clipping solves vanishing gradients, whatever the branch gets wrong.").misconceptions


def test_ones_own_slip_told_as_a_story_doing_nothing_and_an_aside_after_a_name_in_contrast():
    ln = short([point("biased", en=["biased variance"])], [{"claim": {"en": "std+eps"}, "match": {"en": ["re:sigma ?\\+ ?eps"]}}])
    asserts_nothing(ln, "Second, I had written (x - mu) / (sigma + eps), whereas PyTorch puts eps under the root.")
    assert rubric.grade(ln, "Second, write (x - mu) / (sigma + eps).").misconceptions
    identity = short([point("F to zero", en=["re:setting f ?≈ ?0"])])
    assert rubric.grade(identity, "Doing nothing is as easy as setting F ≈ 0.").score == 1.0
    assert rubric.grade(identity, "Nothing is gained by setting F ≈ 0.").contradicted
    clip = short([point("keeps direction", zh=["方向保持不变"], about="norm clipping")],
                 [{"claim": {"en": "per element", "zh": "逐元素"}, "match": {"zh": ["每个分量截断"]}, "about": "norm clipping"}],
                 subjects=[{"name": "norm clipping", "match": {"zh": ["按范数裁剪"]}},
                           {"name": "value clipping", "match": {"zh": ["逐元素裁剪", "按值裁剪"]}}])
    text = "按范数裁剪只缩放长度，方向保持不变，这一点与逐元素裁剪（把每个分量截断到 [-c, c]，会改变方向）不同。"
    verdict = rubric.grade(clip, text)
    assert verdict.score == 1.0 and not verdict.misconceptions and not verdict.swapped
    assert rubric.grade(clip, "按范数裁剪就是把每个分量截断到 [-c, c]。").misconceptions


def test_a_belief_set_up_to_be_refuted_makes_no_point_either():
    clip = keeps_direction("keeps the direction", "clip by norm", "clipping by value")
    for text in ("A common misconception is that clip by norm keeps the direction; it does not.",
                 "The myth is that clip by norm keeps the direction."):
        assert rubric.grade(clip, text).score == 0.0, text
    assert rubric.grade(clip, "Clip by norm keeps the direction; a common misconception is that it clamps.").score == 1.0
    people = short([point("optimisation", en=["optimization"])],
                   [{"claim": {"en": "regulariser"}, "match": {"en": ["regulariz"]}}])
    asserts_nothing(people, "People sometimes describe skip connections as a regularizer, but their effect is on optimization.")


def test_a_reason_clause_is_said_as_a_fact_and_a_new_predicate_ends_a_negation():
    vanishing = short([point("training error", en=["training error"])],
                      [{"claim": {"en": "vanishing"}, "match": {"en": ["re:because (?:the )?gradients? vanish"]}}])
    for text in ("Plain nets couldn't go past 20 layers because the gradients vanished.",
                 "Plain nets could not go past 20 layers because the gradients vanished.",
                 "A deeper plain net would fail because the gradients vanish."):
        assert rubric.grade(vanishing, text).misconceptions, text
    # what is negated is the reason itself
    asserts_nothing(vanishing, "It was not because the gradients vanished: the training error rose.")
    llms = short([point("pre-LN", en=["pre-ln"])],
                 [{"claim": {"en": "LLMs use post-LN"}, "match": {"en": ["re:is what modern llms use"]}}])
    assert rubric.grade(llms, "Post-LN trains without warm-up and is what modern LLMs use.").misconceptions
    assert not rubric.grade(llms, "Post-LN trains without warm-up or what modern LLMs use.").misconceptions


def test_after_a_contrast_and_a_colon_a_clause_of_its_own_is_not_the_contrasted_thing():
    rms = short([point("no mean", en=["re:doesn't subtract the mean"], about="RMSNorm")],
                [{"claim": {"en": "subtracts"}, "match": {"en": ["subtracts the mean"]}, "about": "RMSNorm"}],
                subjects=[{"name": "RMSNorm", "match": {"en": ["rmsnorm"]}},
                          {"name": "LayerNorm", "match": {"en": ["layernorm"]}}])
    assert rubric.grade(rms, "Compared with LayerNorm, RMSNorm leaves out the scaling: it still subtracts the mean.").misconceptions
    asserts_nothing(rms, "Compared with LayerNorm: it still subtracts the mean, which RMSNorm does not.")


def test_a_claim_said_to_be_what_another_subject_does_is_that_subjects():
    ln = short([point("per token", en=["each token"], about="LayerNorm")],
               subjects=[{"name": "LayerNorm", "match": {"en": ["layernorm"]}},
                         {"name": "BatchNorm", "match": {"en": ["batchnorm"]}}])
    text = "LayerNorm pools over the batch. Normalising each token over its own features is what BatchNorm1d does."
    verdict = rubric.grade(ln, text)
    assert verdict.score < 0.5 and verdict.swapped, verdict
    assert rubric.grade(ln, "LayerNorm normalises each token over its own features.").score == 1.0


def test_a_variant_told_as_the_other_minus_something_and_chinese_words_that_only_look_like_hedges():
    rms = short([point("no mean", en=["without the mean"], about="RMSNorm")],
                subjects=[{"name": "RMSNorm", "match": {"en": ["rmsnorm"]}},
                          {"name": "LayerNorm", "match": {"en": ["layernorm"]}}])
    assert rubric.grade(rms, "So RMSNorm... basically it's LayerNorm without the mean.").score == 1.0
    assert rubric.grade(rms, "LayerNorm works without the mean.").swapped
    reg = short([point("deep", zh=["深层"])], [{"claim": {"zh": "正则化"}, "match": {"zh": ["正则化"]}}])
    # 主要是 holds 要是 ("if"); 起…的作用 (plays the role of) asserts, 的作用很小 weighs a topic
    assert rubric.grade(reg, "它对深层网络有帮助，主要是起正则化的作用。").misconceptions
    asserts_nothing(reg, "正则化的作用很小，深层网络靠的是优化。")
    eps = short([point("sqrt", en=["inside the root"])],
                [{"claim": {"en": "equivalent"}, "match": {"en": ["re:std[^.;]{0,40}equivalent"]}}])
    # "a way to avoid division by zero" is a purpose, not a warning; "avoid x.std()" still warns
    assert rubric.grade(eps, "Adding eps to the std is an equivalent way to avoid division by zero.").misconceptions
    asserts_nothing(eps, "Avoid this: adding eps to the std, as if it were equivalent.")


def test_a_label_answered_none_an_aside_past_the_window_and_a_plain_networks_frame():
    running = short([point("per token", en=["per token"])],
                    [{"claim": {"en": "running stats"}, "match": {"en": ["re:running stat"]}}])
    asserts_nothing(running, "Dimension: last, per token. Running stats: none; same in train and eval.")
    assert rubric.grade(running, "Running stats: kept for eval.").misconceptions
    large = short([point("large", en=["near the output are large"])])
    text = "The gradients near the output are large (they don't shrink with depth and grow toward the top), so warm-up helps."
    assert rubric.grade(large, text).score == 1.0
    warmup = short([point("warm-up", en=["warm-up"])])
    assert rubric.grade(warmup, "Warm-up (a linear ramp over the first few thousand steps) doesn't help here.").contradicted
    through = short([point("identity", en=["identity term"])],
                    [{"claim": {"en": "through every layer"}, "match": {"en": ["re:has to [a-z ]+ through every layer"]}}])
    for text in ("In a plain deep net the gradient has to squeeze through every layer. The identity term fixes it.",
                 "The problem with stacking layers is that the gradient has to go through every layer. The identity term fixes it."):
        asserts_nothing(through, text)
    assert rubric.grade(through, "Even with the identity term the gradient has to go through every layer.").misconceptions


def test_a_negation_reaches_into_a_formulas_operand():
    eps = short([point("sqrt", en=["sqrt(var+eps)"])],
                [{"claim": {"en": "eps on the std"}, "match": {"en": ["std+eps"]}}])
    asserts_nothing(eps, "Normalise with (x - mean) / sqrt(var + eps), not (x - mean) / (std + eps).")
    assert rubric.grade(eps, "Normalise with (x - mean) / (std + eps).").misconceptions
