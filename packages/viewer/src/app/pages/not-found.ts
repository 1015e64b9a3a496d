import { h } from '../dom';

/** A page for a URL or an item the site does not have. */
export function renderNotFound(message: string): { title: string; content: Node } {
  return {
    title: 'Not found',
    content: h(
      'div',
      { class: 'page' },
      h('h1', { tabindex: '-1' }, 'Not found'),
      h('p', { role: 'alert' }, message),
      h('p', {}, h('a', { href: '#/' }, 'Go to the overview')),
    ),
  };
}
