"""Replay vote rules on stored GSM8K ballots plus extra programs (exploration)."""
import json, sys, glob
from collections import Counter
from murmurnet.answers import read_answer
from murmurnet.evaluation.dataset import load_rows
from murmurnet.evaluation.stats import paired_difference, bootstrap_ci

lo, hi = int(sys.argv[1]), int(sys.argv[2])
qid = {}
for f in glob.glob('/tmp/dev900/gsm8k*.jsonl'):
    for r in load_rows(f):
        qid[r.question] = r
rec = {}
for l in open('/work/main/benchmarks/results/eval-dev900/results.jsonl'):
    r = json.loads(l)
    if r['kind'] == 'number':
        rec[(r['id'], r['strategy'])] = r
progs = [json.loads(l) for l in open(sys.argv[3])]
progs = [p for p in progs if lo <= p['row'] < hi]

def key(text, q):
    if 'could not be run' in text:
        return ''
    return read_answer('number', text, (), q)

def vote(ballots):
    """ballots: list of (key, weight, is_plain). plurality by weight, tie -> plain group."""
    w = Counter()
    for k, wt, _ in ballots:
        if k:
            w[k] += wt
    if not w:
        return ''
    top = max(w.values())
    lead = [k for k in w if w[k] == top]
    pk = ballots[0][0]
    return pk if pk in lead else next(k for k, _, _ in ballots if k in lead)

rules = {}
def add(name, ok):
    rules.setdefault(name, []).append(ok)

for p in progs:
    row = qid[p['question']]
    gold = row.answer
    plain_rec = rec[(row.id, 'plain')]; mur = rec[(row.id, 'murmur')]
    c = {x['role']: x['text'] for x in mur['contributions']}
    kp = key(c.get('plain', ''), row.question); ks = key(c.get('solver', ''), row.question)
    kprog = key(c.get('programmer', ''), row.question)
    ran = 'Program output' in c.get('programmer', '')
    g, s1 = p['keys'][:2]
    s2 = p['keys'][2] if len(p['keys'])>2 else ''
    add('plain (stored strategy)', plain_rec['correct'])
    add('murmur (stored)', mur['correct'])
    add('plain ballot', kp == gold)
    add('stored program', kprog == gold)
    add('greedy program', g == gold)
    add('new sampled program', s1 == gold)
    # shipped-like: plain w1, solver w1, program w2
    add('shipped replay', vote([(kp, 1, 1), (ks, 1, 0), (kprog, 2 if ran else 1, 0)]) == gold)
    add('greedy program w2 replaces sampled', vote([(kp, 1, 1), (ks, 1, 0), (g, 2, 0)]) == gold)
    allp = [kprog, g, s1, s2]
    add('plain+solver+4 programs w1', vote([(kp, 1, 1), (ks, 1, 0)] + [(k, 1, 0) for k in allp]) == gold)
    add('plain+solver+3 programs(stored,g,s1) w1', vote([(kp, 1, 1), (ks, 1, 0)] + [(k, 1, 0) for k in (kprog, g, s1)]) == gold)
    add('plain+3 programs(stored,g,s1) w1', vote([(kp, 1, 1)] + [(k, 1, 0) for k in (kprog, g, s1)]) == gold)
    cnt = Counter(k for k in allp if k)
    top = cnt.most_common(1)
    ans = top[0][0] if top and top[0][1] >= 2 else vote([(kp, 1, 1), (ks, 1, 0), (kprog, 2 if ran else 1, 0)])
    add('2+ of 4 programs agree else shipped', ans == gold)
    cnt3 = Counter(k for k in (kprog, g, s1) if k)
    top3 = cnt3.most_common(1)
    ans3 = top3[0][0] if top3 and top3[0][1] >= 2 else kp
    add('2+ of 3 programs agree else plain', ans3 == gold)
    ans4 = top[0][0] if top and top[0][1] >= 2 else kp
    add('2+ of 4 programs agree else plain', ans4 == gold)
    add('oracle any', gold in (kp, ks, *allp))

base = rules['plain (stored strategy)']
print(f'rows {lo}-{hi}: n={len(base)}')
for name, xs in rules.items():
    d = paired_difference(base, xs)
    print(f'{name:45s} {sum(xs)/len(xs):6.1%}  vs plain {d.wins:3d}/{d.losses:3d} p={d.p_value:.3f}')
