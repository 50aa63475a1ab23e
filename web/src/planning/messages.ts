/** The planning panels' and the survey's strings (zh-CN and en), loaded with them rather than on first load. */
import { addMessages } from '../i18n/index.js';
import en from './i18n/en.json';
import zhCN from './i18n/zh-CN.json';

addMessages({ 'zh-CN': zhCN, en });
