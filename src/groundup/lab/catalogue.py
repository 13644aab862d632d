"""The words of the experiments, English and Chinese: one catalogue for ``groundup lab --lang``.

Keys are ``"<experiment>.<what>"``. Every experiment has a ``title`` and a ``claim`` in each
language. The English title and claim of the experiments that are not Chinese-only stay in
their modules (``TITLE``, ``CLAIM``, beside the code and criterion they describe) and enter the
English catalogue from there; the Chinese text experiments (``ngram-zh``, ``word2vec-zh``,
``charlm-zh``, ``segment-zh``) keep all their words here in both languages: claim, criterion,
verdicts, table titles and headers, captions and notes, as ``str.format`` templates whose fields
the experiment fills. A test checks that the Chinese catalogue has exactly the English keys.

The report's shell (badges, column names) is :mod:`groundup.lab.messages`.
"""
from __future__ import annotations

from functools import lru_cache

# --------------------------------------------------------------------------------- Chinese
# The Chinese of every experiment's title and claim, written for a Chinese reader of ML (困惑度,
# 平滑, 负采样, 门控, 梯度检查点, 感受野, 上采样, 随机逼近), not translated word for word.
ZH: dict[str, str] = {
    "ngram.title": "N 元语法语言模型：平滑、阶数，以及哪个句子更通顺",
    "ngram.claim": ("平滑让更长的上下文真正有用：用（修正的）Kneser-Ney 平滑时，测试集困惑度随阶数增大而下降；"
                    "最大似然估计则给没见过的 n 元组零概率（困惑度为无穷大）。这样的模型还能从一句话的各种排列里认出"
                    "自然的语序，英文如此，中文也如此。"),
    "word2vec.title": "Word2Vec：无监督学到的词向量，意思相近的词彼此靠近",
    "word2vec.claim": ("只以预测上下文词为目标来训练，skip-gram 就能把语义相关的词放到一起（cat 离 kitten 很近，"
                       "离 dog 稍远，离 iphone 很远；同类的词聚成各自的簇），并把词与词的关系编码成向量差"
                       "（king − man + woman ≈ queen）；在同一份语料上，效果与参考实现相当。"),
    "activations.title": "激活函数：从阶跃单元到 SwiGLU，每条论断都在它成立的场景里检验",
    "activations.claim": ("饱和型激活函数（sigmoid、tanh）让梯度随深度消失，阶跃函数根本不传梯度，而 ReLU 及其平滑的"
                          "后继者（GELU、Swish）能把梯度保住；学习率过高时 ReLU 单元会“死亡”；在 Transformer 语言模型里，"
                          "参数量相同时带门控的前馈网络（GEGLU、SwiGLU）胜过不带门控的（Shazeer 2020）。"),
    "upsampling.title": "上采样：插值、转置卷积、反池化与亚像素卷积",
    "upsampling.claim": ("平滑插值（双线性、双三次）比最近邻插值更能还原下采样后的照片；核大小不能被步长整除的转置卷积，"
                         "即使输入是常数也会画出棋盘格伪影，ICNR 初始化能把它从亚像素卷积中去掉；一个学出来的小型亚像素"
                         "卷积网络胜过双三次插值。"),
    "stochastic-approximation.title": "随机逼近：Robbins-Monro 步长与 Polyak 平均",
    "stochastic-approximation.claim": ("在带噪声的观测上迭代 w ← w − a_k Y_k 就能找到均值或方程的根；步长满足 Robbins-Monro "
                                       "条件（a_k = 1/k）时误差按 O(1/√k) 下降，固定步长会停在由方差决定的平台上，"
                                       "而对衰减较慢的步长做 Polyak 平均，又能恢复 O(1/√k) 的收敛速度。"),
    "metric-loss.title": "把离散的评价指标当损失：不是交叉熵、没有梯度，以及两条出路",
    "metric-loss.claim": ("交叉熵下降不等于准确率上升；准确率、F1、BLEU 几乎处处梯度为零；出路有两条：以指标为奖励的"
                          "强化学习（无偏但方差大、代价高，加基线会好些），或者用指标的平滑近似；在句子级 BLEU 上做"
                          "最小风险训练能提高语料级 BLEU。"),
    "receptive-field.title": "感受野：自顶向下的递推公式、已发表的数值与有效感受野",
    "receptive-field.claim": ("CNN 的感受野满足 RF_(n-1) = (RF_n − 1) × stride_n + ksize_n（AlexNet 195、VGG-16 212、"
                              "ResNet-50 483 像素），但有效感受野呈高斯形，只占理论感受野的一小部分，并且按 √深度 增长"
                              "（Luo 等，2016）。"),
    "rnn.title": "RNN、LSTM 与 GRU：困惑度，以及沿时间反向传播时的梯度消失",
    "rnn.claim": ("门控循环单元（LSTM、GRU）解决了普通 RNN 的梯度消失：靠后时刻的损失对早期隐藏状态的梯度衰减得慢得多，"
                  "而且在相同的训练预算下，它们的困惑度更低。"),
    "adamw.title": "Adam + L2 与 AdamW：解耦的权重衰减",
    "adamw.claim": ("在自适应步长下，L2 正则并不等于权重衰减：Adam 把 L2 项的梯度也除以 √v，梯度大的权重反而衰减得少；"
                    "把衰减从梯度更新里解耦出来（AdamW），正则化的效果不同，泛化也更好。"),
    "hippo.title": "HiPPO：对信号历史的在线多项式投影",
    "hippo.claim": ("作用在 N 个系数上的一个线性递推，就能保存信号全部历史的最优多项式摘要；误差随 N 增大而下降，"
                    "而测度决定记住什么：LegT 记住最近的一段窗口，LegS 记住整个过去，LagT 记住按指数衰减的过去。"),
    "ssm.title": "状态空间模型：选择性的 Mamba 与时不变的 S4D，在复制与回忆任务上的对比",
    "ssm.claim": ("选择性 SSM 的步长、B 和 C 都随输入变化，它能解决依赖内容的任务（选择性复制、归纳头），"
                  "而 S4D 这样的时不变 SSM 做不到；并且这种解法能外推到更长的序列。"),
    "transformer.title": "注意力与循环：串行的计算量、随距离变化的梯度、遗忘",
    "transformer.claim": ("循环网络必须一步接一步地走完 T 步，距离一长，梯度就会消失、信息就会被遗忘（LSTM/GRU 只是减缓了"
                          "这一过程）；自注意力一步就能到达任意位置：计算可以并行，梯度不随距离衰减，隔得再远也能回忆起"
                          "一个词元。"),
    "checkpointing.title": "梯度检查点：用重计算换内存",
    "checkpointing.claim": ("只保存 √n 个分段的输入、在反向传播时重算其余的激活，就能把一条深层链的激活内存从 O(n) 降到 "
                            "O(√n)，代价约是被检查点的层多做一次前向（最多比一次前向加反向多 33%）。"),
}

# ----------------------------------------------------- the Chinese text experiments, English
# (their Chinese is in ZH_TEXT below; the two dicts have the same keys and the same fields)
EN_TEXT: dict[str, str] = {
    # segment-zh
    "segment-zh.title": "Chinese word segmentation by n-gram probability, against jieba",
    "segment-zh.claim": ("Cutting a Chinese line into words is the article's plausibility ranking again: of all "
                         "the ways to cut it into dictionary words, take the one an n-gram model finds most "
                         "probable. On UD GSDSimp test the bigram model's segmentation comes within 2 points of "
                         "jieba's F1 and beats the unigram one over the same lexicon."),
    "segment-zh.criterion": ("Held iff the bigram segmenter's span F1 on UD GSDSimp test is at least jieba's minus "
                             "0.02 and above the unigram segmenter's (same lexicon). Did not hold otherwise; "
                             "inconclusive when the zh extra (jieba and its dictionary) is not installed."),
    "segment-zh.held": "Held",
    "segment-zh.not_held": "Did not hold",
    "segment-zh.inconclusive": "Inconclusive",
    "segment-zh.unigram": "ours, unigram (eq. 1)",
    "segment-zh.bigram": "ours, bigram (eq. 2)",
    "segment-zh.jieba": "jieba",
    "segment-zh.gold": "gold (UD)",
    "segment-zh.table_f1": "UD GSDSimp test ({n} sentences, {words:,} gold words): span precision, recall, F1",
    "segment-zh.headers_f1": "segmenter|precision|recall|F1",
    "segment-zh.table_examples": "The first sentences, cut by each",
    "segment-zh.caption_f1": ("Span F1 of each segmenter on the same 500 sentences. Look for: the bigram bar within "
                              "0.02 of jieba's and above the unigram bar."),
    "segment-zh.verdict": ("{word}: F1 ours bigram {bigram:.3f}, unigram {unigram:.3f}, jieba {jieba:.3f} "
                           "(gap to jieba {gap:+.3f})."),
    "segment-zh.verdict_no_jieba": ("{word}: F1 ours bigram {bigram:.3f}, unigram {unigram:.3f}, over the stories' "
                                    "words only; jieba could not be compared: {why}."),
    "segment-zh.note_data": ("Lexicon: {lexicon:,} words (jieba's dict.txt and the words of the bundled CMRC 2017 "
                             "stories); bigram model: Kneser-Ney on the stories; segmenter options at their "
                             "defaults, not tuned. UD sentences are given without spaces, so the few Latin words "
                             "separated by a space in the original are one run here for every segmenter."),
    # word2vec-zh
    "word2vec-zh.title": "Chinese Word2Vec: word vectors from segmented children's stories",
    "word2vec-zh.claim": ("Skip-gram trained on segmented Chinese text puts words of a kind together (animals, "
                          "family, colours, seasons, body parts form groups; a probe word's nearest neighbours are "
                          "its relatives), answers some CA8 analogies by vector offset and agrees with human "
                          "similarity judgements (COS960), even from under a million words of stories."),
    "word2vec-zh.criterion": ("Held iff all hold: (1) the mean cosine within word groups exceeds that across groups "
                              "by more than 0.15 and at least 60% of the group words have a nearest group word of "
                              "their own group; (2) at least 100 CA8 questions are covered and at least 5% of them "
                              "are answered right (3CosAdd, restrict_vocab 30000); (3) the lower end of the 95% "
                              "interval of the COS960 Spearman correlation over the covered pairs is above 0. "
                              "Otherwise did not hold."),
    "word2vec-zh.held": "Held",
    "word2vec-zh.not_held": "Did not hold",
    "word2vec-zh.verdict": ("{word}: mean cosine within groups {within:.2f} vs {across:.2f} across ({nn:.0%} of the "
                            "group words have a same-group nearest neighbour); CA8 {acc:.1%} of the {covered:,} "
                            "covered questions (of {questions:,}); COS960 Spearman {rho:.3f} over {pairs} covered "
                            "pairs (95% lower bound {low:.3f})."),
    "word2vec-zh.table_nn": "Nearest neighbours of probe words (cosine)",
    "word2vec-zh.headers_nn": "word|8 nearest words",
    "word2vec-zh.table_groups": "Word groups found in the vocabulary (groups are never given to the model)",
    "word2vec-zh.headers_groups": "group|words",
    "word2vec-zh.group_animals": "animals",
    "word2vec-zh.group_family": "family",
    "word2vec-zh.group_colours": "colours",
    "word2vec-zh.group_times": "seasons and times of day",
    "word2vec-zh.group_body": "body parts",
    "word2vec-zh.table_ca8": "CA8 analogies (3CosAdd, restrict_vocab 30000): only covered questions are scored",
    "word2vec-zh.headers_ca8": "set|questions|covered|correct|accuracy (95% interval)",
    "word2vec-zh.table_cos960": "COS960 word similarity: Spearman correlation over the covered pairs",
    "word2vec-zh.headers_cos960": "set|pairs|covered|Spearman|95% lower bound",
    "word2vec-zh.caption_cos960": ("Each covered COS960 pair: the annotators' mean similarity (0-4) against the cosine "
                                   "of the two word vectors. Look for: a rising cloud; its rank correlation is the "
                                   "Spearman figure."),
    "word2vec-zh.note_data": ("Skip-gram with negative sampling (dim 100, window 5, 5 noise words, sample 1e-3, "
                              "min_count 5, {epochs} epochs, 2 threads in the deterministic mode) on {tokens:,} "
                              "tokens of CMRC 2017 stories (bundled, CC BY-SA 4.0), vocabulary {vocab:,} words; "
                              "segmentation: {seg}."),
    "word2vec-zh.seg_zh": "the zh tokenizer (jieba) on the text with its spaces removed",
    "word2vec-zh.seg_source": ("the source's own automatic segmentation, because the zh tokenizer is unavailable "
                               "({why})"),
    "word2vec-zh.note_small": ("The corpus is small (under a million words, one genre), so few CA8 questions are "
                               "covered and the figures are far below those of vectors trained on billions of words; "
                               "they show the method works, not how good Chinese vectors can be. gensim on the same "
                               "tokens and settings: benchmarks/bench_word2vec_zh.py (docs/word2vec.md)."),
    # ngram-zh
    "ngram-zh.title": "Chinese n-grams: which sentence is plausible, characters or words",
    "ngram-zh.claim": ("An n-gram model counted from Chinese stories tells a real sentence from the same "
                       "characters shuffled, the article's own use of a language model, whether it counts "
                       "characters or words; and counted over words (segmented by jieba) a model of the same "
                       "order sees a longer stretch of text, so its perplexity per character is lower."),
    "ngram-zh.criterion": ("Held iff the character 3-gram and the word 3-gram (modified Kneser-Ney) each give the "
                           "original a higher probability than its shuffle in at least 95% of the held-out pairs, "
                           "and the word 3-gram's perplexity per character is below the character 3-gram's. Did "
                           "not hold if one fails; inconclusive when the zh tokenizer is not installed and the "
                           "character part held."),
    "ngram-zh.held": "Held",
    "ngram-zh.not_held": "Did not hold",
    "ngram-zh.inconclusive": "Inconclusive",
    "ngram-zh.char": "characters",
    "ngram-zh.word": "words (zh tokenizer, jieba)",
    "ngram-zh.col_model": "tokens",
    "ngram-zh.col_order": "order {k}",
    "ngram-zh.col_oov": "OOV rate",
    "ngram-zh.table_ppl": ("Held-out perplexity per character, modified Kneser-Ney ({sents:,} held-out lines, "
                           "{chars:,} characters)"),
    "ngram-zh.table_pairs": ("Which sentence is plausible: {n} held-out sentences against their shuffles, "
                             "{k}-gram models"),
    "ngram-zh.headers_pairs": "tokens|original more probable|median log10 p(original) - log10 p(shuffled)",
    "ngram-zh.table_examples": "Examples: log10 p(original) - log10 p(shuffled)",
    "ngram-zh.headers_examples": "original|shuffled|characters|words",
    "ngram-zh.caption_ppl": ("Held-out perplexity per character against the order, for n-grams of characters "
                             "and of words. Look for: the word line below the character line at the same order."),
    "ngram-zh.verdict_chars": ("{word}: the character {k}-gram prefers the original to its shuffle in {char:.1%} "
                               "of pairs (perplexity {char_ppl:.1f} per character); "),
    "ngram-zh.verdict_words": ("the word model in {word_rate:.1%}, and its perplexity per character, "
                               "{word_ppl:.1f}, is {lower} the character model's."),
    "ngram-zh.lower": "below",
    "ngram-zh.not_lower": "not below",
    "ngram-zh.verdict_no_words": "the word model was not built: {why}.",
    "ngram-zh.note_data": ("Data: CMRC 2017 children's stories (bundled, CC BY-SA 4.0), spaces removed; "
                           "{train:,} training lines, {test:,} held-out lines (every 10th). Shuffles are "
                           "random orders of a sentence's characters, seeded."),
    # charlm-zh
    "charlm-zh.title": "A character-level language model writes Tang poems: LSTM and Transformer",
    "charlm-zh.claim": ("Trained only to predict the next character of Tang quatrains and regulated verse, "
                        "a small LSTM and a small Transformer learn far more than character frequencies: "
                        "their validation perplexity falls clearly below the unigram model's, and the poems "
                        "they write keep the form, lines of five or seven characters between ， and 。."),
    "charlm-zh.criterion": ("Held iff, for both the LSTM and the Transformer, the validation perplexity per "
                            "character is below 0.5 x the unigram perplexity (add-one character frequencies "
                            "of the training poems) and at least 50% of the clauses (between ， and 。) of its "
                            "4 sampled poems have 5 or 7 characters. Otherwise did not hold."),
    "charlm-zh.held": "Held",
    "charlm-zh.not_held": "Did not hold",
    "charlm-zh.verdict": ("{word}: validation perplexity per character LSTM {lstm:.1f}, Transformer "
                          "{transformer:.1f}, unigram {uni:.1f}; clauses of 5 or 7 characters in the sampled "
                          "poems: LSTM {lstm_form:.0%}, Transformer {transformer_form:.0%}."),
    "charlm-zh.unigram": "unigram (character frequencies)",
    "charlm-zh.table_ppl": ("Tang poems ({poems:,} poems, every 20th held out: {valid:,} validation characters; "
                            "V = {V:,} characters)"),
    "charlm-zh.headers_ppl": ("model|parameters|steps|training characters|validation perplexity|"
                              "ratio to unigram|clauses of 5 or 7"),
    "charlm-zh.table_samples": "Sampled poems (temperature {temperature}, each from the start of a line)",
    "charlm-zh.headers_samples": "model|poem",
    "charlm-zh.caption_ppl": ("Training perplexity per character against the step (a moving mean over 20 steps, log "
                              "scale), each model's validation perplexity at the end as a dot, the unigram model's "
                              "as a dotted line. Look for: both curves crossing below the unigram line, and how far "
                              "below it they end."),
    "charlm-zh.note_recipe": ("Both models: width 128, 2 layers, output layer tied to the embedding, the 2,000 most "
                              "frequent characters as the vocabulary (the rest <unk>, drawn □ in the samples), AdamW "
                              "lr 3e-3 with 50 warm-up steps and cosine decay, batch {batch} x 64 characters, no dropout, "
                              "{steps} steps each; the same engine (groundup.train) and data."),
    "charlm-zh.note_bench": ("At equal training time rather than equal steps: benchmarks/bench_charlm_zh.py "
                             "(docs/word2vec.md, \"The Chinese lab\")."),
}
ZH_TEXT: dict[str, str] = {
    # segment-zh
    "segment-zh.title": "用 n 元语法概率做中文分词，与 jieba 对比",
    "segment-zh.claim": ("把一行中文切成词，其实又是文章里的“哪个句子更通顺”：在所有按词典切分的方式中，取 n 元语法模型"
                         "认为概率最大的那一种。在 UD GSDSimp 测试集上，二元模型的分词 F1 与 jieba 相差不到 2 个百分点，"
                         "并且在同一词典上胜过一元模型。"),
    "segment-zh.criterion": ("当且仅当二元分词器在 UD GSDSimp 测试集上的 F1 不低于 jieba 的 F1 减 0.02，并且高于一元分词器"
                             "（同一词典），判为成立；否则不成立；没有安装 zh 扩展（jieba 及其词典）时无定论。"),
    "segment-zh.held": "成立",
    "segment-zh.not_held": "不成立",
    "segment-zh.inconclusive": "无定论",
    "segment-zh.unigram": "本项目，一元（式 1）",
    "segment-zh.bigram": "本项目，二元（式 2）",
    "segment-zh.jieba": "jieba",
    "segment-zh.gold": "标准答案（UD）",
    "segment-zh.table_f1": "UD GSDSimp 测试集（{n} 句，{words:,} 个标准词）：按词边界计的准确率、召回率、F1",
    "segment-zh.headers_f1": "分词器|准确率|召回率|F1",
    "segment-zh.table_examples": "前几句，各分词器的切分",
    "segment-zh.caption_f1": "各分词器在同样 500 句上的 F1。看点：二元模型的柱子与 jieba 相差不到 0.02，并且高于一元模型。",
    "segment-zh.verdict": "{word}：F1 本项目二元 {bigram:.3f}、一元 {unigram:.3f}，jieba {jieba:.3f}（与 jieba 之差 {gap:+.3f}）。",
    "segment-zh.verdict_no_jieba": "{word}：F1 本项目二元 {bigram:.3f}、一元 {unigram:.3f}，词典只来自故事语料；无法与 jieba 比较：{why}。",
    "segment-zh.note_data": ("词典：{lexicon:,} 个词（jieba 的 dict.txt 加上随包 CMRC 2017 故事中的词）；二元模型：在故事语料上"
                             "做 Kneser-Ney 平滑；分词器选项取默认值，没有调参。UD 句子去掉空格后输入，所以原文中以空格分隔的"
                             "少数拉丁词在这里对每个分词器都连成一串。"),
    # word2vec-zh
    "word2vec-zh.title": "中文 Word2Vec：从分词后的儿童故事里学词向量",
    "word2vec-zh.claim": ("在分好词的中文文本上训练 skip-gram，同类的词会聚到一起（动物、家人、颜色、季节、身体部位各成一组；"
                          "探针词的最近邻是它的同类），用向量差能答对一部分 CA8 类比题，与人工标注的词语相似度（COS960）"
                          "也一致，哪怕语料只有不到一百万词的故事。"),
    "word2vec-zh.criterion": ("当且仅当以下都满足时判为成立：(1) 组内平均余弦相似度比组间高出 0.15 以上，并且至少 60% 的组内词"
                              "的最近邻（在所有组词中）属于同一组；(2) 词表至少覆盖 100 道 CA8 类比题，其中至少 5% 答对"
                              "（3CosAdd，restrict_vocab 30000）；(3) 在覆盖到的 COS960 词对上，Spearman 相关系数 95% 置信"
                              "区间的下界大于 0。否则不成立。"),
    "word2vec-zh.held": "成立",
    "word2vec-zh.not_held": "不成立",
    "word2vec-zh.verdict": ("{word}：组内平均余弦 {within:.2f}，组间 {across:.2f}（{nn:.0%} 的组内词最近邻属于同一组）；"
                            "CA8 在覆盖到的 {covered:,} 道题（共 {questions:,} 道）上准确率 {acc:.1%}；COS960 在覆盖到的 "
                            "{pairs} 对上 Spearman 为 {rho:.3f}（95% 下界 {low:.3f}）。"),
    "word2vec-zh.table_nn": "探针词的最近邻（余弦相似度）",
    "word2vec-zh.headers_nn": "词|最近的 8 个词",
    "word2vec-zh.table_groups": "词表中找到的词组（分组从未告诉模型）",
    "word2vec-zh.headers_groups": "组|词",
    "word2vec-zh.group_animals": "动物",
    "word2vec-zh.group_family": "家人",
    "word2vec-zh.group_colours": "颜色",
    "word2vec-zh.group_times": "季节与时间",
    "word2vec-zh.group_body": "身体部位",
    "word2vec-zh.table_ca8": "CA8 类比（3CosAdd，restrict_vocab 30000）：只对覆盖到的题计分",
    "word2vec-zh.headers_ca8": "题集|题数|覆盖|答对|准确率（95% 区间）",
    "word2vec-zh.table_cos960": "COS960 词语相似度：覆盖到的词对上的 Spearman 相关系数",
    "word2vec-zh.headers_cos960": "数据集|词对|覆盖|Spearman|95% 下界",
    "word2vec-zh.caption_cos960": ("每个覆盖到的 COS960 词对：横轴是标注者给的平均相似度（0–4），纵轴是两个词向量的余弦。"
                                   "看点：点云向右上方升起；它的秩相关就是 Spearman 数值。"),
    "word2vec-zh.note_data": ("skip-gram + 负采样（维度 100，窗口 5，5 个噪声词，下采样 1e-3，min_count 5，{epochs} 轮，2 个线程的确定性模式），"
                              "语料是 CMRC 2017 故事（随包附带，CC BY-SA 4.0）的 {tokens:,} 个词，词表 {vocab:,} 个词；"
                              "分词：{seg}。"),
    "word2vec-zh.seg_zh": "zh 分词器（jieba），作用于去掉空格后的文本",
    "word2vec-zh.seg_source": "语料自带的自动分词，因为 zh 分词器不可用（{why}）",
    "word2vec-zh.note_small": ("语料很小（不到一百万词，单一文体），能覆盖的 CA8 题很少，数值远低于在数十亿词上训练的词向量；"
                               "它说明方法可行，不代表中文词向量能做到多好。同样的词和设置下与 gensim 的对比见 "
                               "benchmarks/bench_word2vec_zh.py（docs/word2vec.md）。"),
    # ngram-zh
    "ngram-zh.title": "中文 n 元语法：哪个句子更通顺，按字还是按词",
    "ngram-zh.claim": ("从中文故事里统计出的 n 元语法模型，无论按字还是按词计数，都能把真句子和打乱了字序的同一串字"
                       "区分开（这正是文章里语言模型的用法）；而按词（jieba 分词）计数时，同样的阶数能看到更长的一段文字，"
                       "所以每字困惑度更低。"),
    "ngram-zh.criterion": ("当且仅当字 3 元模型和词 3 元模型（修正的 Kneser-Ney 平滑）各自在至少 95% 的留出句对中给原句比"
                           "打乱后的句子更高的概率，并且词 3 元模型的每字困惑度低于字 3 元模型，判为成立；其中一条不满足则"
                           "不成立；没有安装 zh 分词器而按字的部分成立时，无定论。"),
    "ngram-zh.held": "成立",
    "ngram-zh.not_held": "不成立",
    "ngram-zh.inconclusive": "无定论",
    "ngram-zh.char": "字",
    "ngram-zh.word": "词（zh 分词器，jieba）",
    "ngram-zh.col_model": "单位",
    "ngram-zh.col_order": "{k} 元",
    "ngram-zh.col_oov": "未登录率",
    "ngram-zh.table_ppl": "留出集每字困惑度，修正的 Kneser-Ney 平滑（留出 {sents:,} 行，共 {chars:,} 字）",
    "ngram-zh.table_pairs": "哪个句子更通顺：{n} 个留出句子与各自打乱后的版本，{k} 元模型",
    "ngram-zh.headers_pairs": "单位|原句概率更高的比例|log10 p(原句) − log10 p(打乱) 的中位数",
    "ngram-zh.table_examples": "例子：log10 p(原句) − log10 p(打乱)",
    "ngram-zh.headers_examples": "原句|打乱|按字|按词",
    "ngram-zh.caption_ppl": "留出集每字困惑度随阶数的变化，按字与按词各一条线。看点：同一阶数下，按词的线在按字的线之下。",
    "ngram-zh.verdict_chars": "{word}：字 {k} 元模型在 {char:.1%} 的句对中认为原句比打乱的更可能（每字困惑度 {char_ppl:.1f}）；",
    "ngram-zh.verdict_words": "词模型为 {word_rate:.1%}，其每字困惑度 {word_ppl:.1f}，{lower}字模型。",
    "ngram-zh.lower": "低于",
    "ngram-zh.not_lower": "不低于",
    "ngram-zh.verdict_no_words": "没有建词模型：{why}。",
    "ngram-zh.note_data": ("数据：CMRC 2017 儿童故事（随包附带，CC BY-SA 4.0），去掉空格；训练 {train:,} 行，"
                           "留出 {test:,} 行（每 10 行取 1 行）。打乱是把一句话的字随机重排，随机数有固定种子。"),
    # charlm-zh
    "charlm-zh.title": "字符级语言模型写唐诗：LSTM 与 Transformer",
    "charlm-zh.claim": ("只以“预测下一个字”为目标，在唐代绝句和律诗上训练，小小的 LSTM 和 Transformer 学到的远不止字频："
                        "验证集困惑度明显低于一元模型，写出的诗也守住了格律的外形，逗号句号之间是五言或七言。"),
    "charlm-zh.criterion": ("当且仅当 LSTM 和 Transformer 各自满足：验证集上每字困惑度低于一元模型（训练诗的字频，加一平滑）"
                            "困惑度的 0.5 倍，并且它采样出的 4 首诗中至少 50% 的分句（，与 。之间）是 5 个或 7 个字，"
                            "判为成立；否则不成立。"),
    "charlm-zh.held": "成立",
    "charlm-zh.not_held": "不成立",
    "charlm-zh.verdict": ("{word}：验证集每字困惑度 LSTM {lstm:.1f}、Transformer {transformer:.1f}，一元模型 {uni:.1f}；"
                          "采样诗中五言或七言分句的比例：LSTM {lstm_form:.0%}，Transformer {transformer_form:.0%}。"),
    "charlm-zh.unigram": "一元模型（字频）",
    "charlm-zh.table_ppl": "唐诗（{poems:,} 首，每 20 首留出 1 首：验证集 {valid:,} 字；字表 V = {V:,}）",
    "charlm-zh.headers_ppl": "模型|参数量|步数|训练字数|验证集困惑度|与一元模型之比|五言或七言分句",
    "charlm-zh.table_samples": "采样的诗（温度 {temperature}，每首从行首开始）",
    "charlm-zh.headers_samples": "模型|诗",
    "charlm-zh.caption_ppl": ("训练集每字困惑度随步数的变化（20 步滑动平均，对数坐标），圆点是各模型训练结束时的验证集困惑度，"
                              "虚线是一元模型。看点：两条曲线何时穿过虚线，最后比它低多少。"),
    "charlm-zh.note_recipe": ("两个模型：宽度 128，2 层，输出层与词嵌入共享权重，字表取最常见的 2,000 个字（其余记为 <unk>，"
                              "采样中画作 □），AdamW 学习率 3e-3，50 步预热后余弦衰减，批大小 {batch} × 64 字，不用 dropout，"
                              "各训练 {steps} 步；同一个训练引擎（groundup.train）、同一份数据。"),
    "charlm-zh.note_bench": "相同训练时间（而非相同步数）下的比较见 benchmarks/bench_charlm_zh.py（docs/word2vec.md “The Chinese lab” 一节）。",
}
ZH.update(ZH_TEXT)

LANGS = ("en", "zh")


def _module_text(name: str) -> dict[str, str]:
    from . import registry

    mod = registry.load(name)
    return {f"{name}.title": mod.TITLE, f"{name}.claim": mod.CLAIM}


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    """Every key of ``lang``: for English, the modules' ``TITLE``/``CLAIM`` and :data:`EN_TEXT`."""
    from . import registry
    from ..errors import ConfigError

    if lang == "zh":
        return dict(ZH)
    if lang != "en":
        raise ConfigError(f"unknown report language {lang!r} (known: {', '.join(LANGS)})")
    out = dict(EN_TEXT)
    for name in registry.names("all"):
        for k, v in _module_text(name).items():
            out.setdefault(k, v)
    return out


def text(lang: str, key: str, **fields) -> str:
    """The ``lang`` entry ``key`` with ``fields`` filled in (``str.format``)."""
    if lang == "en":
        s = EN_TEXT.get(key)
        if s is None:  # a module's title or claim: no need to build the whole catalogue
            name, _, what = key.rpartition(".")
            s = _module_text(name)[key]
    else:
        s = catalogue(lang)[key]
    return s.format(**fields) if fields else s


def title_claim(name: str, lang: str) -> tuple[str, str]:
    """An experiment's title and claim in ``lang``."""
    return text(lang, f"{name}.title"), text(lang, f"{name}.claim")
