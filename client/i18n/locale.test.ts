import { describe, expect, it } from 'vitest'
import { pickLocale } from './locale.ts'

describe('language choice', () => {
  it('follows the first browser language that is available', () => {
    expect(pickLocale(null, ['fr-FR', 'zh-CN', 'en-US'])).toBe('zh-CN')
    expect(pickLocale(null, ['de', 'en-GB'])).toBe('en')
  })

  it('serves every Chinese variant in Simplified Chinese', () => {
    for (const tag of ['zh', 'zh-Hans', 'zh-SG', 'zh-TW', 'ZH-cn']) expect(pickLocale(null, [tag])).toBe('zh-CN')
  })

  it('prefers the language the operator picked over the browser languages', () => {
    expect(pickLocale('zh-CN', ['en-US'])).toBe('zh-CN')
  })

  it('ignores a stored value that is not a shipped language', () => {
    expect(pickLocale('klingon', ['zh-CN'])).toBe('zh-CN')
  })

  it('falls back to English when nothing matches', () => {
    expect(pickLocale(null, ['fr', 'ja'])).toBe('en')
    expect(pickLocale(null, [])).toBe('en')
  })
})
