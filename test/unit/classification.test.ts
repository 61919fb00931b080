import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ClassificationContext, RecentComplaint } from '../../shared/domain/classification';
import {
  classify,
  complaintFingerprint,
  detectLanguage,
  extractAmount,
  fingerprintSimilarity,
  meaningfulLength,
  normalizeText,
  rejectionMessage,
  textFingerprint,
} from '../../shared/domain/classification';
import type { ComplaintSubmission } from '../../shared/domain/complaint';
import { type ComplaintStatus, phaseOf } from '../../shared/domain/lifecycle';
import { loadPolicyFile } from '../../shared/policy/load';
import type { Policy } from '../../shared/policy/schema';

const policy = loadPolicyFile(fileURLToPath(new URL('../../policy/default-policy.json', import.meta.url)));
const NOW = new Date('2026-03-10T08:00:00.000Z');
const NONE: ClassificationContext = { recent: [] };

function submission(description: string, extra: Partial<ComplaintSubmission> = {}): ComplaintSubmission {
  return { channel: 'app', customer: { id: 'cust-1' }, description, evidence: [], ...extra };
}

function run(
  description: string,
  extra: Partial<ComplaintSubmission> = {},
  tier = 'standard',
  context = NONE,
) {
  return classify(policy, { submission: submission(description, extra), tier, now: NOW }, context);
}

function recent(
  id: string,
  description: string,
  category: string,
  status: ComplaintStatus,
  daysAgo: number,
): RecentComplaint {
  return {
    id,
    number: `C20260301-${id.toUpperCase().padEnd(6, 'X').slice(0, 6)}`,
    category,
    phase: phaseOf(status),
    receivedAt: new Date(NOW.getTime() - daysAgo * 86_400_000).toISOString(),
    fingerprint: complaintFingerprint(submission(description)),
  };
}

// ---------------------------------------------------------------------------
// Category: realistic samples in both languages
// ---------------------------------------------------------------------------

const ZH_SAMPLES: Array<[string, string]> = [
  ['登录时一直提示密码错误，无法登录', 'technical_fault'],
  ['App更新后一打开就闪退，根本用不了', 'technical_fault'],
  ['页面加载失败，一直白屏，刷新也没用', 'technical_fault'],
  ['注册时一直收不到验证码，试了好几次', 'technical_fault'],
  ['账号登录异常，提示系统错误，请稍后再试', 'technical_fault'],
  ['修改收货地址的步骤太多了，操作太繁琐', 'product_experience'],
  ['新版界面设计不合理，找不到历史订单入口', 'product_experience'],
  ['首页广告太多，体验很差，希望优化一下', 'product_experience'],
  ['客服态度很差，等了两个小时没人回复', 'service_quality'],
  ['客服回复时间过长，问题一直没解决，还被挂电话', 'service_quality'],
  ['打了三次客服热线，每次都说等通知，互相推诿', 'service_quality'],
  ['我的个人信息被泄露了，陆续接到诈骗电话', 'information_security'],
  ['账号被盗，有人异地登录还改了我的手机号', 'information_security'],
  ['自动续费没有任何提醒就扣了我68元，要求退款', 'billing_dispute'],
  ['同一笔订单被重复扣款两次，共1,299.00元', 'billing_dispute'],
  ['会员费价格不透明，收费不合理', 'billing_dispute'],
  ['你们门店门口的共享单车乱停乱放，影响通行', 'other'],
  ['点了提交订单没反应，一直转圈', 'technical_fault'],
  ['客服电话一直打不通，转人工要排队半小时', 'service_quality'],
  ['有陌生设备登录了我的账号，密码被改了', 'information_security'],
  ['退款申请了一周还没到账', 'billing_dispute'],
  ['收费不合理，同样的服务比别人贵一倍', 'billing_dispute'],
  ['希望增加夜间模式，晚上看屏幕太刺眼', 'product_experience'],
  ['弹窗太多，关都关不掉，很影响使用', 'product_experience'],
  ['系统崩溃好几次了，数据都没保存', 'technical_fault'],
];

const EN_SAMPLES: Array<[string, string]> = [
  ['The app crashes every time I open the camera', 'technical_fault'],
  ["I can't log in since yesterday's update, it keeps showing an error", 'technical_fault'],
  ['The checkout page does not load, I only get a blank page', 'technical_fault'],
  ['I never receive the verification code by SMS', 'technical_fault'],
  ['The app has too many steps to change my address', 'product_experience'],
  ['The new menu design is confusing and I cannot find my order history', 'product_experience'],
  ['Way too many ads, the app is cumbersome to use', 'product_experience'],
  ['Your support agent was rude and hung up on me', 'service_quality'],
  ['I have waited for a reply for five days and nobody answers', 'service_quality'],
  ['Someone logged into my account from another country, my account was hacked', 'information_security'],
  ['My personal data was leaked and now I get phishing emails', 'information_security'],
  ['I was charged twice for my subscription, I want a refund', 'billing_dispute'],
  ['The auto-renewal charged me $99 without any notice', 'billing_dispute'],
  ['The shared bikes outside your store keep blocking the sidewalk', 'other'],
  ['The page keeps loading forever and then shows a 500 error', 'technical_fault'],
  ["I've been on hold for 40 minutes and the hotline agent was unhelpful", 'service_quality'],
  ['My account was compromised and the password was changed', 'information_security'],
  ['I cancelled but you still renewed my subscription and took the fee', 'billing_dispute'],
  ['You deducted 500 yuan from my card for nothing', 'billing_dispute'],
  ['The settings menu is not intuitive, it is hard to find anything', 'product_experience'],
  ['Please add a dark mode, the white screen hurts my eyes at night', 'product_experience'],
];

/**
 * Broader phrasing, written after the samples above: the keyword lists are expected
 * to cover most of it. Misses should fall back to "other" (a person reclassifies),
 * never silently land in a wrong specialised queue too often.
 */
const BROADER: Array<[string, string]> = [
  ['视频播放到一半就卡住不动了，重启也没用', 'technical_fault'],
  ['付款的时候一直提示网络异常，付不了款', 'technical_fault'],
  ['消息推送全部收不到，通知功能失效了', 'technical_fault'],
  ['退货流程太复杂了，要填好多信息', 'product_experience'],
  ['字体太小，老人根本看不清', 'product_experience'],
  ['搜索结果很不准确，想找的东西总是搜不到', 'product_experience'],
  ['在线客服答非所问，就是个机器人', 'service_quality'],
  ['工作人员承诺三天内回电，结果一直没有消息', 'service_quality'],
  ['售后一直拖着不给处理', 'service_quality'],
  ['我的银行卡被盗刷了两千元，是不是你们平台泄露了信息', 'information_security'],
  ['收到陌生验证码短信，怀疑有人在试我的账号', 'information_security'],
  ['优惠券没有抵扣，多付了钱', 'billing_dispute'],
  ['取消订单后钱一直没退回来', 'billing_dispute'],
  ['价格前后不一致，下单后突然涨价', 'billing_dispute'],
  ['The video freezes halfway and the app becomes unresponsive', 'technical_fault'],
  ['Push notifications stopped working after the last update', 'technical_fault'],
  ['Uploading a photo always fails with a network error', 'technical_fault'],
  ['Returning an item is way too complicated, so many forms', 'product_experience'],
  ['The font is too small and the buttons are tiny', 'product_experience'],
  ['The chatbot keeps giving irrelevant answers and I cannot reach a human', 'service_quality'],
  ['The staff promised to call me back within three days and never did', 'service_quality'],
  ['Someone used my account to place orders I never made', 'information_security'],
  ['I keep getting spam calls since I registered, you must have sold my number', 'information_security'],
  ['The coupon was not applied and I paid the full price', 'billing_dispute'],
  ['I cancelled the order two weeks ago and still have not got my money back', 'billing_dispute'],
  ['The price went up right after I placed the order', 'billing_dispute'],
  ['小程序扫码后一直显示网络请求超时', 'technical_fault'],
  ['订单页面数据显示错乱，金额和实际不符', 'technical_fault'],
  ['地图定位老是不准，导航到错误的地方', 'technical_fault'],
  ['注销账号的入口藏得太深，找了半天', 'product_experience'],
  ['每次打开都要重新授权，太烦了', 'product_experience'],
  ['夜间模式颜色对比度太低，看着眼睛累', 'product_experience'],
  ['投诉了三次都没有人联系我', 'service_quality'],
  ['骑手态度恶劣，还威胁给差评', 'service_quality'],
  ['客服一直让我等，说会跟进但再也没消息', 'service_quality'],
  ['我的手机号被别人绑定到了另一个账号上', 'information_security'],
  ['你们把我的住址和电话给了第三方，天天接到推销电话', 'information_security'],
  ['账户里的余额被人转走了，我没有操作过', 'information_security'],
  ['开通会员时说首月1元，结果扣了30元', 'billing_dispute'],
  ['发票开错了，申请重开一直没处理', 'billing_dispute'],
  ['外卖配送费比显示的贵了5块', 'billing_dispute'],
  ['The QR code scanner always times out', 'technical_fault'],
  ['Order totals show the wrong numbers on the summary page', 'technical_fault'],
  ['GPS location is always wrong so the map sends me to the wrong place', 'technical_fault'],
  ['Deleting my account is buried deep in the settings, took me ages', 'product_experience'],
  ['I have to re-authorize every time I open the app, so annoying', 'product_experience'],
  ['I complained three times and nobody contacted me', 'service_quality'],
  ['The courier was aggressive and threatened to leave a bad review', 'service_quality'],
  ['My phone number was linked to somebody else account without my consent', 'information_security'],
  ['You shared my address with a third party and now telemarketers call me daily', 'information_security'],
  ['Money disappeared from my wallet balance, I did not make any transfer', 'information_security'],
  ['The membership was advertised at 1 yuan for the first month but you took 30', 'billing_dispute'],
  ['The invoice has the wrong company name and nobody fixes it', 'billing_dispute'],
  ['The delivery fee was higher than what the app showed', 'billing_dispute'],
  ['直播间进不去，一直提示连接失败', 'technical_fault'],
  ['更新到最新版本后聊天记录全没了', 'technical_fault'],
  ['视频上传到99%就失败，试了十几次', 'technical_fault'],
  ['设置里的选项太多太乱，根本不知道改哪个', 'product_experience'],
  ['会员权益说明写得不清楚，看不懂', 'product_experience'],
  ['每一步都要输入验证码，用起来很累', 'product_experience'],
  ['客服说帮我升级处理，结果一个星期都没动静', 'service_quality'],
  ['电话里的工作人员说话很冲，一点礼貌都没有', 'service_quality'],
  ['我的照片被别人盗用来注册了账号', 'information_security'],
  ['收到一条短信说我在你们平台的账号异常，链接是假的', 'information_security'],
  ['同样的套餐老用户比新用户贵', 'billing_dispute'],
  ['退订了还在每个月扣钱', 'billing_dispute'],
  ['The live stream will not start, it says connection failed', 'technical_fault'],
  ['After the update my whole chat history is gone', 'technical_fault'],
  ['Video upload gets to 99% and then fails every time', 'technical_fault'],
  ['The settings page has so many options I do not know which one to change', 'product_experience'],
  ['The membership benefits page is unclear and hard to understand', 'product_experience'],
  ['The agent promised to escalate my case and then nothing happened for a week', 'service_quality'],
  ['The person on the phone was really impatient and talked over me', 'service_quality'],
  ['Someone is using my photos to run a fake account on your platform', 'information_security'],
  ['I got an SMS saying my account was suspended with a fake link', 'information_security'],
  ['Existing customers pay more than new customers for the same plan', 'billing_dispute'],
  ['I unsubscribed but you keep taking money every month', 'billing_dispute'],
  ['Can I get a replacement for the lost parcel', 'other'],
];

describe('classify: category', () => {
  it.each(ZH_SAMPLES)('zh: %s → %s', (text, category) => {
    const c = run(text);
    expect(c.category).toBe(category);
    expect(c.language).toBe('zh');
    expect(c.validity).toBe('valid');
  });

  it.each(EN_SAMPLES)('en: %s → %s', (text, category) => {
    const c = run(text);
    expect(c.category).toBe(category);
    expect(c.language).toBe('en');
    expect(c.validity).toBe('valid');
  });

  it('has enough samples across all six categories in both languages', () => {
    for (const samples of [ZH_SAMPLES, EN_SAMPLES]) {
      expect(samples.length).toBeGreaterThanOrEqual(12);
      expect(new Set(samples.map(([, c]) => c))).toEqual(new Set(policy.categories.map((c) => c.id)));
    }
  });

  it('classifies at least 80 % of broader phrasing correctly, with few wrong specialised categories', () => {
    const results = BROADER.map(([text, want]) => ({ want, got: run(text).category }));
    const correct = results.filter((r) => r.got === r.want).length;
    const wrongSpecialised = results.filter(
      (r) => r.got !== r.want && r.got !== policy.fallbackCategory,
    ).length;
    expect(correct / results.length).toBeGreaterThanOrEqual(0.8);
    expect(wrongSpecialised / results.length).toBeLessThanOrEqual(0.1);
  });

  it.each([
    ['I press the button and nothing happens', 'media_or_regulator'],
    ['The last time I called your hotline nobody answers', 'heated_customer'],
    ['多扣了315元，要求退款', 'media_or_regulator'],
  ])('does not fire a rule on an ordinary phrase: %s', (text, rule) => {
    expect(run(text).severityRules).not.toContain(rule);
  });

  it.each([
    ['The battery would die in an hour after your update, there must be a bug', 'technical_fault'],
    ['You took 500 yuan for a down payment I never agreed to, refund it', 'billing_dispute'],
    ['我买的彩票中奖了但是钱一直没到账', 'billing_dispute'],
  ])('does not misread ordinary words as abuse, spam or faults: %s', (text, category) => {
    const c = run(text);
    expect(c.validity).toBe('valid');
    expect(c.category).toBe(category);
  });

  it('reads title, demand and scenario as well as the description', () => {
    expect(run('请帮忙看一下这个问题', { title: '支付页面打不开' }).category).toBe('technical_fault');
    expect(run('上个月的账单有问题', { demand: '请退款' }).category).toBe('billing_dispute');
    expect(run('一直失败，试了很多次', { scenario: '登录页面 无法登录' }).category).toBe('technical_fault');
  });

  it('classifies mixed Chinese and English text', () => {
    const c = run('我的iPhone app一直crash，打不开');
    expect(c.category).toBe('technical_fault');
    expect(c.language).toBe('zh');
    expect(c.matchedKeywords).toEqual(expect.arrayContaining(['打不开', 'crash']));
    expect(run('Charged twice again, 又被多扣了一次钱').category).toBe('billing_dispute');
  });

  it('matches full-width characters and English keywords in any case', () => {
    const c = run('ＡＰＰ一直闪退，ＣＲＡＳＨ了好几次');
    expect(c.category).toBe('technical_fault');
    expect(c.matchedKeywords).toEqual(expect.arrayContaining(['闪退', 'crash']));
    expect(run('MY ACCOUNT WAS HACKED').category).toBe('information_security');
  });

  it('matches English keywords on word boundaries only', () => {
    // "bug" must not hit "debug", "leak" not "leaky", "charge" not "recharge" inside words.
    const c = run('I tried to debug the settings page myself but gave up');
    expect(c.matchedKeywords).not.toContain('bug');
    expect(c.category).toBe('other');
    expect(run('Found a bug in the settings page').category).toBe('technical_fault');
    expect(run('软件bug太多了，经常出错').category).toBe('technical_fault');
  });

  it('lets a heavier category win over a lighter one and reports only its keywords', () => {
    // "无法登录" (technical, 1.5) against "账号被盗" + "异地登录" (security, 3 each).
    const c = run('账号被盗了，有人异地登录，我现在无法登录');
    expect(c.category).toBe('information_security');
    expect(c.matchedKeywords).not.toContain('无法登录');
    expect(c.matchedKeywords.length).toBeLessThanOrEqual(10);
  });

  it('breaks ties by policy order', () => {
    const tied: Policy = {
      ...policy,
      categories: [
        { id: 'first', name: { zh: '一', en: 'one' }, weight: 1, keywords: { zh: ['甲'], en: [] } },
        { id: 'second', name: { zh: '二', en: 'two' }, weight: 1, keywords: { zh: ['乙'], en: [] } },
        ...policy.categories,
      ],
    };
    const c = classify(tied, { submission: submission('乙和甲都有问题'), tier: 'standard', now: NOW }, NONE);
    expect(c.category).toBe('first');
    expect(c.matchedKeywords).toEqual(['甲']);
  });

  it('falls back to the fallback category with no keyword', () => {
    const c = run('我想了解一下你们公司的地址在哪里');
    expect(c.category).toBe(policy.fallbackCategory);
    expect(c.matchedKeywords).toEqual([]);
  });

  it('records the time of classification', () => {
    expect(run('页面加载失败').classifiedAt).toBe(NOW.toISOString());
  });
});

// ---------------------------------------------------------------------------
// Severity
// ---------------------------------------------------------------------------

describe('classify: severity', () => {
  it.each([
    ['default for an ordinary complaint', '首页广告太多，体验很差', {}, 'general', []],
    [
      'money in the text',
      '自动续费多扣了我6000元，要求全额退款',
      {},
      'urgent',
      ['large_amount', 'money_involved'],
    ],
    [
      'money in the text (en)',
      'You charged me ¥300 for a plan I cancelled',
      {},
      'important',
      ['money_involved'],
    ],
    ['money in the field', '会员费被多扣了，要求退款', { amount: 300 }, 'important', ['money_involved']],
    [
      'the larger of field and text',
      '多扣了50元',
      { amount: 8000 },
      'urgent',
      ['large_amount', 'money_involved'],
    ],
    [
      'many users affected (field)',
      '页面打不开',
      { affectedUsers: 150 },
      'major',
      ['many_users_affected', 'some_users_affected'],
    ],
    ['some users affected (field)', '页面打不开', { affectedUsers: 20 }, 'urgent', ['some_users_affected']],
    [
      'large outage (zh keywords)',
      '平台大面积宕机，所有用户都无法访问',
      {},
      'major',
      ['large_outage', 'outage_reported'],
    ],
    [
      'large outage (en keywords)',
      'Widespread outage, the whole platform is down for everyone',
      {},
      'major',
      ['large_outage', 'outage_reported'],
    ],
    [
      'one customer mentioning an outage is urgent, not major',
      '你们网站宕机了，我下不了单',
      {},
      'urgent',
      ['outage_reported'],
    ],
    [
      'a stolen account is urgent, not a major data leak',
      'My account was hacked and someone changed my password',
      {},
      'urgent',
      ['account_takeover'],
    ],
    ['sensitive data leak', '我的个人信息被泄露了，陆续接到诈骗电话', {}, 'major', ['sensitive_data_leak']],
    [
      'regulator mention raises one level',
      '客服态度很差，我要投诉到12315',
      {},
      'important',
      ['media_or_regulator'],
    ],
    [
      'media mention raises one level (en)',
      'Your support agent was rude, I will talk to a journalist',
      {},
      'important',
      ['media_or_regulator'],
    ],
    ['emotion raises one level', '客服态度太过分了，忍无可忍', {}, 'important', ['heated_customer']],
    [
      'emotion raises one level (en)',
      'The support agent was rude, this is unacceptable',
      {},
      'important',
      ['heated_customer'],
    ],
    [
      'media and emotion add up',
      '客服态度太过分了，我要找记者曝光',
      {},
      'urgent',
      ['media_or_regulator', 'heated_customer'],
    ],
    [
      'raise applies after the floor',
      '多扣了300元，我要投诉到消协',
      {},
      'urgent',
      ['media_or_regulator', 'money_involved'],
    ],
    [
      'capped at major',
      '我的身份证信息被泄露了，我要找媒体曝光，太过分了',
      {},
      'major',
      ['sensitive_data_leak', 'media_or_regulator', 'heated_customer'],
    ],
    [
      'blocked from the service',
      'I cannot log in to my account at all',
      {},
      'important',
      ['blocked_from_service'],
    ],
  ] as const)('%s', (_name, text, extra, severity, rules) => {
    const c = run(text, extra);
    expect(c.severity).toBe(severity);
    expect([...c.severityRules].sort()).toEqual([...rules].sort());
  });

  it('applies a category-restricted rule only to that category', () => {
    // "泄露" fires sensitive_data_leak only for information security; "数据库" alone here is a technical complaint.
    const c = run('数据库报错，页面一直加载失败');
    expect(c.category).toBe('technical_fault');
    expect(c.severityRules).not.toContain('sensitive_data_leak');
    expect(c.severity).toBe('general');
  });

  it('does not treat numbers without a currency as money', () => {
    const c = run('订单号 20260301123456 的页面打不开，客服电话 4000500827');
    expect(c.severityRules).not.toContain('large_amount');
    expect(c.severityRules).not.toContain('money_involved');
  });
});

// ---------------------------------------------------------------------------
// Validity
// ---------------------------------------------------------------------------

describe('classify: validity', () => {
  it.each([
    ['spam keyword (zh)', '兼职日结，加微信领取免费会员，点击链接', 'spam'],
    ['spam keyword (en)', 'Click here for a crypto giveaway, free money every day', 'spam'],
    [
      'too many links',
      '看这些 http://a.example/1 https://b.example/2 www.c.example/3 http://d.example/4 页面打不开',
      'spam',
    ],
    ['abusive (zh)', '你们这帮傻逼，赶紧退钱', 'abusive'],
    ['abusive (en)', 'Fuck you and your refund policy', 'abusive'],
    ['out of scope (zh)', '讲个笑话吧', 'out_of_scope'],
    ['out of scope (en)', "What's the weather like in Shanghai tomorrow?", 'out_of_scope'],
    ['too short (keyboard mash)', 'asdf', 'insufficient'],
    ['too short (one word)', '垃圾', 'insufficient'],
    ['too short (repeated characters)', '啊啊啊啊啊啊！！！', 'insufficient'],
    ['long enough in four characters', '无法登录', 'valid'],
    ['long enough in English', 'app crashes', 'valid'],
  ] as const)('%s', (_name, text, verdict) => {
    expect(run(text).validity).toBe(verdict);
  });

  it('allows up to maxLinks links', () => {
    const c = run('截图在 http://a.example/1 http://a.example/2 http://a.example/3 ，页面打不开');
    expect(c.validity).toBe('valid');
  });

  it('checks abuse before spam', () => {
    expect(run('傻逼，加微信').validity).toBe('abusive');
  });

  it('keeps a real complaint that happens to contain an out-of-scope phrase', () => {
    // "this is a test" is an out-of-scope keyword; a category keyword makes it a complaint.
    const c = run('This is a test of my patience: you charged me twice and I want a refund');
    expect(c.validity).toBe('valid');
    expect(c.category).toBe('billing_dispute');
  });

  it('a complaint mentioning a lawyer is not out of scope (contested edge)', () => {
    const en = run('I have spoken to my lawyer about how you handled my case');
    expect(en.validity).toBe('valid');
    expect(en.severityRules).toContain('media_or_regulator');
    const zh = run('我已经咨询了律师，你们乱收费必须给个说法');
    expect(zh.validity).toBe('valid');
    expect(zh.category).toBe('billing_dispute');
    expect(zh.severity).toBe('important');
  });

  it('reads the title for the length check', () => {
    expect(run('如题', { title: '登录页面打不开' }).validity).toBe('valid');
  });

  const ORIGINAL = '登录时一直提示密码错误，无法登录，换了手机也一样';
  const RESUBMITTED = '登录时一直提示密码错误 无法登录！换了手机也一样。';

  it('marks a re-submission of an open complaint as its duplicate', () => {
    const context = { recent: [recent('01open', ORIGINAL, 'technical_fault', 'in_progress', 2)] };
    const c = run(RESUBMITTED, {}, 'standard', context);
    expect(c.validity).toBe('duplicate');
    expect(c.duplicateOf).toBe('01open');
    // The complaint it duplicates is not also a "repeat".
    expect(c.repeat).toEqual({ isRepeat: false, previous: [] });
  });

  it('is not a duplicate of a closed or resolved complaint (then it is a repeat)', () => {
    for (const status of ['closed', 'resolved'] as const) {
      const context = { recent: [recent('01done', ORIGINAL, 'technical_fault', status, 2)] };
      const c = run(RESUBMITTED, {}, 'standard', context);
      expect(c.validity).toBe('valid');
      expect(c.duplicateOf).toBeUndefined();
      expect(c.repeat).toEqual({ isRepeat: true, previous: ['01done'] });
    }
  });

  it('is not a duplicate of an open complaint of another category or with different text', () => {
    const other = { recent: [recent('01bill', ORIGINAL, 'billing_dispute', 'in_progress', 2)] };
    expect(run(RESUBMITTED, {}, 'standard', other).validity).toBe('valid');
    const different = {
      recent: [recent('01diff', 'App更新后一打开就闪退，根本用不了', 'technical_fault', 'assigned', 2)],
    };
    const c = run(RESUBMITTED, {}, 'standard', different);
    expect(c.validity).toBe('valid');
    expect(c.repeat.previous).toEqual(['01diff']);
  });

  it('ignores the complaint itself and complaints received after it', () => {
    const self = recent('01self', ORIGINAL, 'technical_fault', 'received', 0);
    const later = {
      ...recent('01later', ORIGINAL, 'technical_fault', 'classified', 0),
      receivedAt: '2026-03-10T08:00:05.000Z',
    };
    const c = classify(
      policy,
      {
        submission: submission(ORIGINAL),
        tier: 'standard',
        now: new Date('2026-03-10T08:00:10Z'),
        selfId: '01self',
        receivedAt: NOW,
      },
      { recent: [self, later] },
    );
    expect(c.validity).toBe('valid');
    expect(c.repeat.isRepeat).toBe(false);
  });

  it('gives the polite reason in the customer language with the number filled in', () => {
    expect(rejectionMessage(policy, 'duplicate', 'zh', { number: 'C20260301-7KQ2MZ' })).toContain(
      'C20260301-7KQ2MZ',
    );
    expect(rejectionMessage(policy, 'duplicate', 'en', { number: 'C20260301-7KQ2MZ' })).toMatch(
      /open complaint C20260301-7KQ2MZ/,
    );
    for (const verdict of ['spam', 'abusive', 'duplicate', 'out_of_scope', 'insufficient'] as const) {
      for (const language of ['zh', 'en'] as const) {
        const text = rejectionMessage(policy, verdict, language, { number: 'N1' });
        expect(text).toBe(policy.validity.reasons[verdict][language].replaceAll('{number}', 'N1'));
        expect(text).not.toContain('{number}');
      }
    }
  });

  it('still fills in category, severity and priority for a rejected complaint', () => {
    const c = run('你们这帮傻逼，我的个人信息被泄露了');
    expect(c.validity).toBe('abusive');
    expect(c.category).toBe('information_security');
    expect(c.severity).toBe('major');
  });
});

// ---------------------------------------------------------------------------
// Repeat and priority
// ---------------------------------------------------------------------------

describe('classify: repeat and priority', () => {
  const TEXT = '客服态度很差，等了两个小时没人回复';
  const EARLIER = '上次打电话客服直接挂电话了，一点都不专业';

  it.each([
    [29, true],
    [29.99, true],
    [30.01, false],
    [31, false],
  ])('same category %s days ago → repeat %s', (daysAgo, isRepeat) => {
    const context = { recent: [recent('01prev', EARLIER, 'service_quality', 'resolved', daysAgo)] };
    const c = run(TEXT, {}, 'standard', context);
    expect(c.repeat.isRepeat).toBe(isRepeat);
    expect(c.repeat.previous).toEqual(isRepeat ? ['01prev'] : []);
  });

  it('does not count another category or a rejected complaint', () => {
    const context = {
      recent: [
        recent('01tech', '页面加载失败', 'technical_fault', 'resolved', 3),
        recent('01rej', '客服', 'service_quality', 'rejected', 3),
      ],
    };
    expect(run(TEXT, {}, 'standard', context).repeat).toEqual({ isRepeat: false, previous: [] });
  });

  it('lists every earlier complaint in the window, oldest first', () => {
    const context = {
      recent: [
        recent('01b', EARLIER, 'service_quality', 'closed', 5),
        recent('01a', '客服回复慢，推诿', 'service_quality', 'resolved', 20),
      ],
    };
    expect(run(TEXT, {}, 'standard', context).repeat.previous).toEqual(['01a', '01b']);
  });

  it.each([
    ['standard, first time, general', 'standard', false, TEXT, 4],
    ['vip, first time, general', 'vip', false, TEXT, 3],
    ['standard, repeat, general', 'standard', true, TEXT, 3],
    ['vip, repeat, general', 'vip', true, TEXT, 2],
    ['vip, repeat, urgent', 'vip', true, '客服态度太过分了，我要找记者曝光', 1],
    ['vip, major (clamped at 1)', 'vip', false, '平台大面积宕机，所有用户都无法访问', 1],
    ['unknown tier has no boost', 'gold', false, TEXT, 4],
  ] as const)('%s → priority %i', (_name, tier, repeat, text, priority) => {
    const context = { recent: repeat ? [recent('01prev', EARLIER, 'service_quality', 'closed', 10)] : [] };
    const c = run(text, {}, tier, context);
    expect(c.repeat.isRepeat).toBe(repeat);
    expect(c.priority).toBe(priority);
  });
});

// ---------------------------------------------------------------------------
// Text helpers
// ---------------------------------------------------------------------------

describe('normalizeText', () => {
  it('folds width and case, unifies apostrophes and collapses whitespace', () => {
    expect(normalizeText('  ＡＰＰ　一直\n\t闪退  Can’t  ')).toBe("app 一直 闪退 can't");
    expect(normalizeText('￥５００')).toBe('¥500');
  });
});

describe('detectLanguage', () => {
  it.each([
    ['登录时一直提示密码错误', 'zh'],
    ['我的iPhone app登录不了', 'zh'],
    ['The app crashes on start', 'en'],
    ['Login is broken again (登录不了), please fix it soon', 'en'],
    ['点击链接 https://example.com/some/very/long/english/path 领取奖品', 'zh'],
  ] as const)('%s → %s', (text, language) => {
    expect(detectLanguage(text)).toBe(language);
  });

  it('uses the fallback for text without letters', () => {
    expect(detectLanguage('12315 !!!', 'zh')).toBe('zh');
    expect(detectLanguage('12315 !!!')).toBe('en');
  });
});

describe('extractAmount', () => {
  it.each([
    ['多扣了¥500', 500],
    ['多扣了￥５００', 500],
    ['被扣了500元', 500],
    ['5百元', 500],
    ['损失3万元', 30_000],
    ['1.5万元', 15_000],
    ['共1,299.00元', 1299],
    ['RMB 1,299.00', 1299],
    ['CNY5000', 5000],
    ['200 yuan', 200],
    ['2块钱', 2],
    ['charged $99.90 twice', 99.9],
    ['about $2k gone', 2000],
    ['先扣了68元，后来又扣了￥1,200，还有30块', 1200],
    ['我要投诉到12315', undefined],
    ['订单号 20260301123456', undefined],
    ['3 hours and 2 days', undefined],
    ['', undefined],
  ] as const)('%s → %s', (text, amount) => {
    expect(extractAmount(text)).toBe(amount);
  });
});

describe('meaningfulLength', () => {
  it('counts Han characters fully, Latin letters half, repeats and punctuation not', () => {
    expect(meaningfulLength('无法登录')).toBe(4);
    expect(meaningfulLength('asdf')).toBe(2);
    expect(meaningfulLength('啊啊啊啊！！！')).toBe(1);
  });
});

// ---------------------------------------------------------------------------
// Fingerprints
// ---------------------------------------------------------------------------

describe('textFingerprint and fingerprintSimilarity', () => {
  const BASE_ZH = '登录时一直提示密码错误，无法登录，换了手机也一样，请尽快处理';
  const BASE_EN = 'I was charged twice for my subscription this month and I want a refund';

  it('is 16 hex characters, deterministic, and 1 for the same text', () => {
    const f = textFingerprint(BASE_ZH);
    expect(f).toMatch(/^[0-9a-f]{16}$/);
    expect(textFingerprint(BASE_ZH)).toBe(f);
    expect(fingerprintSimilarity(f, f)).toBe(1);
    expect(textFingerprint('')).toBe('0000000000000000');
  });

  it('is symmetric and within [0, 1]', () => {
    const a = textFingerprint(BASE_ZH);
    const b = textFingerprint(BASE_EN);
    expect(fingerprintSimilarity(a, b)).toBe(fingerprintSimilarity(b, a));
    expect(fingerprintSimilarity(a, b)).toBeGreaterThanOrEqual(0);
    expect(fingerprintSimilarity(a, b)).toBeLessThanOrEqual(1);
    expect(fingerprintSimilarity('ffffffffffffffff', '0000000000000000')).toBe(0);
    expect(fingerprintSimilarity('0000000000000001', '0000000000000000')).toBe(1 - 1 / 64);
  });

  it('treats a malformed fingerprint as dissimilar', () => {
    expect(fingerprintSimilarity('xyz', textFingerprint(BASE_ZH))).toBe(0);
  });

  it.each([
    ['punctuation changed', BASE_ZH, '登录时一直提示密码错误。无法登录！换了手机也一样；请尽快处理！！'],
    ['whitespace changed', BASE_ZH, '登录时 一直提示密码错误， 无法登录，\n换了手机也一样，请尽快处理'],
    [
      'full-width',
      BASE_EN,
      'Ｉ ｗａｓ ｃｈａｒｇｅｄ ｔｗｉｃｅ ｆｏｒ ｍｙ ｓｕｂｓｃｒｉｐｔｉｏｎ ｔｈｉｓ ｍｏｎｔｈ ａｎｄ Ｉ ｗａｎｔ ａ ｒｅｆｕｎｄ',
    ],
    [
      'case and punctuation',
      BASE_EN,
      'i was CHARGED twice for my subscription this month, and I want a refund!!',
    ],
    ['a word added (zh)', BASE_ZH, '登录时一直提示密码错误，无法登录，换了手机也一样，请你们尽快处理'],
    [
      'a word added (en)',
      BASE_EN,
      'I was charged twice for my subscription this month and I really want a refund',
    ],
  ])('near-identical (%s) scores at least 0.8', (_name, a, b) => {
    expect(fingerprintSimilarity(textFingerprint(a), textFingerprint(b))).toBeGreaterThanOrEqual(0.8);
  });

  it('scores unrelated complaints well below the duplicate threshold', () => {
    const texts = [...ZH_SAMPLES, ...EN_SAMPLES].map(([t]) => textFingerprint(t));
    const scores: number[] = [];
    for (let i = 0; i < texts.length; i++) {
      for (let j = i + 1; j < texts.length; j++) {
        scores.push(fingerprintSimilarity(texts[i] ?? '', texts[j] ?? ''));
      }
    }
    const mean = scores.reduce((s, x) => s + x, 0) / scores.length;
    expect(Math.max(...scores)).toBeLessThan(0.8);
    expect(mean).toBeLessThan(0.6);
  });

  it('fingerprints a submission by its title and description', () => {
    const s = submission('无法登录', { title: '登录问题', demand: '请尽快处理' });
    expect(complaintFingerprint(s)).toBe(textFingerprint('登录问题 无法登录'));
  });
});
