# Builds tests/data/dose/corpus.csv (run from the repository root after `cargo build`):
# the public directions with their published daily amounts, the amounts under opal's method
# (METHOD.md §4, conventions below), and the rows opal does not match. See README.md here.
import csv, re, subprocess
NUMW=r"\b(one|two|three|four|five|six|seven|eight|nine|ten|half)\b"
def num(x):
    try: return float(x)
    except: return None
def fmt(v):
    if v is None: return ''
    return f"{v:.6f}".rstrip('0').rstrip('.')
src_name="doseminer (Selbosh/doseminer @7794ef6) tests/common_doses_textmining.csv ID {}"
existing={r['text'].strip().lower() for r in csv.DictReader(open('tests/data/reference/dose/instructions_public.csv'))}
rows=[]
def daily(dn0,dn1,df0,df1,di0,di1):
    if None in (dn0,dn1,df0,df1,di0,di1) or not di0 or not di1: return (None,None)
    return (dn0*df0/di1, dn1*df1/di0)
for r in csv.DictReader(open('tests/data/dose/doseminer_common_doses_1-376.csv')):
    t=r['PRESCRIPTION']
    if t.strip().lower() in existing: continue
    dn0,dn1,df0,df1,di0,di1=[num(r[k]) for k in ['DN MIN','DN MAX','DF MIN','DF MAX','DI MIN','DI MAX']]
    s=daily(dn0,dn1,df0,df1,di0,di1)
    conv=''; e=s
    stripped=re.sub(r"(\d+|one|two|three|four|five|six)(\s*-\s*\d+)?\s*times", " ", t.lower())
    no_amount = not re.search(r"\d", stripped) and not re.search(NUMW, stripped)
    if no_amount and s!=(None,None):
        conv='no_amount'; e=(None,None)
    elif re.search(r"(\b|\d)od\b", t.lower()) and df0 is None and dn0 is not None:
        conv='od_once_daily'; e=daily(dn0,dn1,1,1,di0 or 1,di1 or 1)
    elif r['OPTIONAL']=='yes' and df1 is not None and dn0 is not None:
        conv='prn_keeps_frequency'; e=daily(dn0,dn1,df1,df1,di0,di1)
    rows.append(dict(text=t, source_daily_min=fmt(s[0]), source_daily_max=fmt(s[1]), daily_min=fmt(e[0]), daily_max=fmt(e[1]), convention=conv, source=src_name.format(r['ID'])))
for r in csv.DictReader(open('tests/data/reference/dose/instructions_public.csv')):
    rows.append(dict(text=r['text'], source_daily_min=r['expected_daily_min'], source_daily_max=r['expected_daily_max'], daily_min=r['expected_daily_min'], daily_max=r['expected_daily_max'], convention='', source=r['source']))
texts=[r['text'] for r in rows]
out=subprocess.run(['./target/debug/opal','dose']+texts,capture_output=True,text=True).stdout
parsed=list(csv.DictReader(out.splitlines()))
def close(a,b):
    a,b=num(a),num(b)
    if a is None or b is None: return a is None and b is None
    return abs(a-b)<=5e-4*max(1,abs(a))
notes={
 'one twice a day with meals': 'the source gives 3 a day (with meals); opal reads twice a day: 2',
 'two now then one daily': 'the source averages a loading dose (1.5); opal spans the steps and "two now" has no frequency: 1',
 'a half every day': 'the source gives 1; opal reads a half: 0.5',
}
miss=0; pub=0
for r,p in zip(rows,parsed):
    ok = close(r['daily_min'],p['units_min']) and close(r['daily_max'],p['units_max'])
    pub += close(r['source_daily_min'],p['units_min']) and close(r['source_daily_max'],p['units_max'])
    r['known_miss'] = '' if ok else notes.get(r['text'], f"opal {p['units_min']}..{p['units_max']}")
    if not ok: miss+=1; print('MISS', r['text'], r['daily_min'], r['daily_max'], '| opal', p['units_min'], p['units_max'], r['convention'])
print(len(rows), 'misses', miss, 'exact vs published', pub)
from collections import Counter
print(Counter(r['convention'] for r in rows))
w=csv.DictWriter(open('tests/data/dose/corpus.csv','w',newline=''), fieldnames=['text','source_daily_min','source_daily_max','daily_min','daily_max','convention','known_miss','source'], lineterminator='\n')
w.writeheader()
for r in rows: w.writerow(r)
